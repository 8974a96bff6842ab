"""The cyber security expo: size, exhibition areas, dates, what to see."""

from actions.facts import FactAction


class ActionAnswerExpo(FactAction):
    action_name = "action_answer_expo"
    topic = "expo"
    default_intent = "ask_expo_highlights"
    facts_by_intent = {
        "ask_expo_size": ("expo_size",),
        "ask_expo_areas": ("expo_areas",),
        "ask_expo_dates": ("expo_dates",),
        "ask_expo_highlights": ("expo_exhibits", "expo_firsts"),
    }
