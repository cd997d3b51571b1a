"""The one object MLflow serves: a pyfunc around a :class:`RatingModel`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from credit_engine.modeling import RatingModel

__all__ = ["ARTIFACT_KEY", "CreditRiskModel"]

ARTIFACT_KEY = "rating_model"
"""Name of the pickled :class:`RatingModel` among the pyfunc's artifacts."""


class CreditRiskModel(PythonModel):
    """Feature rows in; PD, score, grade, default flag and reasons out.

    The full inference graph (estimator, calibration, master scale, reasons) is
    the :class:`RatingModel` stored as an artifact, so ``mlflow models serve``
    and the engine's own API give the same answers. The wrapper holds no state
    of its own until :meth:`load_context`; MLflow pickles it by reference to
    this installed class.
    """

    def load_context(self, context: Any) -> None:
        """Load the rating model from the pyfunc's artifacts."""
        import joblib

        self.model: RatingModel = joblib.load(context.artifacts[ARTIFACT_KEY])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: Any = None
    ) -> pd.DataFrame:
        """Rate each row of ``model_input`` (columns: the model's input columns)."""
        frame = pd.DataFrame(model_input)
        return self.model.rate(frame).reset_index(drop=True)

    def unwrap(self) -> RatingModel:
        """Return the loaded rating model (for in-process scoring)."""
        return self.model
