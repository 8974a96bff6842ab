"""Operations: the `cyberweek` command, training, the process harness and the one Rasa entry point.

Above the runtime (bot/, actions/) and the evaluation; nothing in the runtime imports it.
"""
