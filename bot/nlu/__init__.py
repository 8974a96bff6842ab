"""Custom Rasa NLU components and the text/date helpers they share (see each module)."""
