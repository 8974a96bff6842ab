"""The week itself: theme, organisers, dates, why Guangzhou, Hong Kong/Macao, Bay Area, figures."""

from actions.facts import FactAction


class ActionAnswerWeek(FactAction):
    action_name = "action_answer_week"
    topic = "week"
    default_intent = "ask_week_dates"
    facts_by_intent = {
        "ask_week_theme": ("theme", "features"),
        "ask_week_organisers": ("organisers", "organisers_list"),
        "ask_week_dates": ("week_dates", "activity_overview"),
        "ask_why_guangzhou": ("why_guangzhou",),
        "ask_hk_macao": ("hk_macao_debut", "mou", "pilot_zone"),
        "ask_bay_area_cities": ("bay_area_cities",),
        "ask_guangzhou_figures": ("guangzhou_figures",),
        "ask_past_editions": ("edition_2023", "edition_2022"),
    }
