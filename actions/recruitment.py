"""Talent recruitment: whether, how many jobs, who may attend, where, how to apply, employers."""

from actions.facts import FactAction


class ActionAnswerRecruitment(FactAction):
    action_name = "action_answer_recruitment"
    topic = "recruitment"
    default_intent = "ask_recruitment"
    facts_by_intent = {
        "ask_recruitment": ("recruitment_overview", "recruitment_jobs"),
        "ask_recruitment_jobs": ("recruitment_jobs",),
        "ask_recruitment_audience": ("recruitment_audience",),
        "ask_recruitment_location": ("recruitment_location",),
        "ask_recruitment_apply": ("recruitment_apply",),
        "ask_recruitment_employers": ("recruitment_employers", "guangzhou_talent"),
    }
