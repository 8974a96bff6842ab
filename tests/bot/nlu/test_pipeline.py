"""The custom components in a Rasa graph: signatures, type hints and order as Rasa validates
them."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.recipes.default_recipe import DefaultV1Recipe


def test_components_form_a_valid_rasa_graph(tmp_path: Path) -> None:
    """Rasa validates signatures, type hints and component order for the config."""
    from rasa.engine.validation import validate
    from rasa.shared.data import TrainingType

    config = {
        "recipe": "default.v1",
        "language": "zh",
        "pipeline": [
            {"name": "bot.nlu.normalizer.TextNormalizer"},
            {"name": "bot.nlu.speller.SpellingCorrector"},
            {"name": "bot.nlu.tokenizer.JiebaTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "DIETClassifier", "epochs": 1},
            {"name": "bot.nlu.date_extractor.DateExtractor"},
            {"name": "bot.nlu.gazetteer.DatabaseGazetteer"},
        ],
        "policies": [],
    }
    model_config = DefaultV1Recipe().graph_config_for_recipe(
        config, {}, training_type=TrainingType.NLU
    )
    validate(model_config)
    predict_nodes = model_config.predict_schema.nodes
    order = [name for name in predict_nodes if name.startswith("run_")]
    assert order.index("run_bot.nlu.normalizer.TextNormalizer0") < order.index(
        "run_bot.nlu.speller.SpellingCorrector1"
    )
    assert order.index("run_bot.nlu.speller.SpellingCorrector1") < order.index(
        "run_bot.nlu.tokenizer.JiebaTokenizer2"
    )
    assert "train_bot.nlu.speller.SpellingCorrector1" in model_config.train_schema.nodes
    assert "run_bot.nlu.normalizer.TextNormalizer0" in model_config.train_schema.nodes
