"""Model families: one `ModelSpec` per family names everything the rest of the code asks about it.

A spec holds the builder, the typed hyperparameter schema (type, valid range or choices and the
default the estimator gets when params.yaml omits the key — defined here and nowhere else), the pip
packages a logged model or a bundle needs, and the types skops must trust to load it.

Every model is a scikit-learn Pipeline that takes the raw feature frame: an imputer and a scaler only
where the model needs them (logistic regression), none for tree models (they take NaN).

Hyperparameters come from the `train` group: shared keys (`train.n_estimators`, …; a key the chosen
model does not use is ignored) overridden by the task's own section (`train.<task>.<key>`). Every value
is checked against the schema before any work (`resolve_train_params`); a wrong type or value is a
`ParamsError` naming the key.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from geih.errors import DataError, ParamsError

if TYPE_CHECKING:  # scikit-learn is imported where a model is built: stages that only read params stay light
    from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)

Steps = list[tuple[str, Any]]
# Keys of the `train` group that are not hyperparameters (the threshold rule: geih.modelling.validation).
TRAIN_SETTINGS = ("seed", "n_jobs", "threshold_rule", "recall_target")


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter: its type ('int', 'float' or 'choice'), valid range (`low`/`high`,
    inclusive unless `low_open`) or choices, and the default the estimator gets when params omit it."""

    name: str
    kind: str
    help: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()

    def with_default(self, default: Any) -> Hyperparameter:
        """This definition with a family's default (checked against the definition itself)."""
        return replace(self, default=self.check(default, f"<default of {self.name}>"))

    def check(self, value: Any, key: str) -> Any:
        """`value` if it has this hyperparameter's type and lies in its range, else ParamsError(key)."""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamsError(key, f"expected one of {list(self.choices)}, got {value!r}")
            return value
        integer = self.kind == "int"
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            kind = "an integer" if integer else "a number"
            raise ParamsError(key, f"expected {kind} ({self.help}), got {value!r}")
        if not math.isfinite(value):
            raise ParamsError(key, f"expected a finite number ({self.help}), got {value!r}")
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and value > self.high
        if too_low or too_high:
            raise ParamsError(key, f"expected {self.range_text()} ({self.help}), got {value!r}")
        return int(value) if integer else float(value)

    def range_text(self) -> str:
        """The valid values in words, e.g. 'a number in (0, 1]'."""
        if self.kind == "choice":
            return f"one of {list(self.choices)}"
        kind = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} in {'(' if self.low_open else '['}{self.low}, {self.high}]"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '≥'} {self.low}"
        return kind


# The shared definitions (type, range, meaning). Each family picks the ones it uses, with its default.
N_ESTIMATORS = Hyperparameter("n_estimators", "int", "number of trees / boosting rounds", low=1)
MAX_DEPTH = Hyperparameter("max_depth", "int", "maximum tree depth, 0 = no limit", low=0)
LEARNING_RATE = Hyperparameter("learning_rate", "float", "shrinkage per boosting round", low=0, high=1,
                               low_open=True)
MIN_SAMPLES_LEAF = Hyperparameter("min_samples_leaf", "int", "minimum rows per leaf (XGBoost: min_child_weight)",
                                  low=1)
NUM_LEAVES = Hyperparameter("num_leaves", "int", "maximum leaves per tree", low=2, high=131072)
SUBSAMPLE = Hyperparameter("subsample", "float", "fraction of rows per tree", low=0, high=1, low_open=True)
COLSAMPLE_BYTREE = Hyperparameter("colsample_bytree", "float", "fraction of features per tree", low=0, high=1,
                                  low_open=True)
REG_LAMBDA = Hyperparameter("reg_lambda", "float", "L2 regularisation of leaf weights", low=0)
C = Hyperparameter("C", "float", "inverse L2 regularisation strength", low=0, low_open=True)
CALIBRATION = Hyperparameter("calibration", "choice", "probability calibration",
                             choices=("none", "sigmoid", "isotonic"))
DEVICE = Hyperparameter("device", "choice", "where XGBoost trains", choices=("cpu", "cuda"))
CALIBRATIONS = CALIBRATION.choices

# Types in every calibrated model (CalibratedClassifierCV) that skops does not trust by default.
CALIBRATION_TRUSTED_TYPES = ("sklearn.calibration._CalibratedClassifier",
                             "sklearn.calibration._SigmoidCalibration")
# Packages every model (and every bundle) needs.
BASE_PACKAGES = ("scikit-learn", "pandas", "numpy", "joblib", "cloudpickle")


@dataclass(frozen=True)
class ModelSpec:
    """A model family: its builder (complete, checked hyperparameters, seed, n_jobs → Pipeline steps),
    its hyperparameter schema, the pip packages beyond BASE_PACKAGES, the types skops must trust
    (beyond its defaults) to load a fitted model, and the estimator's class (to recognise one).
    A family that also regresses has `build_regressor` (same hyperparameters) and `regressor_class`."""

    name: str
    build: Callable[[Mapping[str, Any], int, int], Steps]
    hyperparameters: tuple[Hyperparameter, ...]
    packages: tuple[str, ...]
    trusted_types: tuple[str, ...]
    estimator_class: str
    build_regressor: Callable[[Mapping[str, Any], int, int], Steps] | None = None
    regressor_class: str = ""

    @property
    def defaults(self) -> dict[str, Any]:
        return {h.name: h.default for h in self.hyperparameters}

    def hyperparameter(self, name: str) -> Hyperparameter | None:
        return next((h for h in self.hyperparameters if h.name == name), None)

    def resolve(self, given: Mapping[str, Any], keys: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The complete hyperparameters of this family: defaults overridden by `given` (keys this
        family does not use are left out). Each given value is checked; `keys` maps a name to the
        params key to name in errors (default: train.<name>)."""
        keys = keys or {}
        out = self.defaults
        for name, value in given.items():
            spec = self.hyperparameter(name)
            if spec is not None:
                out[name] = spec.check(value, keys.get(name, f"train.{name}"))
        return out


def _depth(hp: Mapping[str, Any], unlimited: Any) -> Any:
    """max_depth as the library spells it: 0 (no limit) becomes `unlimited`."""
    return hp["max_depth"] or unlimited


def _random_forest(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from sklearn.ensemble import RandomForestClassifier

    return [("model", RandomForestClassifier(
        n_estimators=hp["n_estimators"], max_depth=_depth(hp, None), min_samples_leaf=hp["min_samples_leaf"],
        random_state=seed, n_jobs=n_jobs))]


def _random_forest_regressor(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from sklearn.ensemble import RandomForestRegressor

    return [("model", RandomForestRegressor(
        n_estimators=hp["n_estimators"], max_depth=_depth(hp, None), min_samples_leaf=hp["min_samples_leaf"],
        random_state=seed, n_jobs=n_jobs))]


def _gradient_boosting_regressor(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return [("model", HistGradientBoostingRegressor(
        max_iter=hp["n_estimators"], max_depth=_depth(hp, None), learning_rate=hp["learning_rate"],
        min_samples_leaf=hp["min_samples_leaf"], random_state=seed, early_stopping=False))]


def _gradient_boosting(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return [("model", HistGradientBoostingClassifier(
        max_iter=hp["n_estimators"], max_depth=_depth(hp, None), learning_rate=hp["learning_rate"],
        min_samples_leaf=hp["min_samples_leaf"], random_state=seed, early_stopping=False))]


def _logistic_regression(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    return [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler()),
            ("model", LogisticRegression(C=hp["C"], max_iter=2000, random_state=seed))]


def _xgboost(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from xgboost import XGBClassifier

    return [("model", XGBClassifier(
        n_estimators=hp["n_estimators"], max_depth=hp["max_depth"], learning_rate=hp["learning_rate"],
        subsample=hp["subsample"], colsample_bytree=hp["colsample_bytree"],
        min_child_weight=float(hp["min_samples_leaf"]), reg_lambda=hp["reg_lambda"], tree_method="hist",
        device=hp["device"], random_state=seed, n_jobs=n_jobs, eval_metric="logloss"))]


def _xgboost_regressor(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from xgboost import XGBRegressor

    return [("model", XGBRegressor(
        n_estimators=hp["n_estimators"], max_depth=hp["max_depth"], learning_rate=hp["learning_rate"],
        subsample=hp["subsample"], colsample_bytree=hp["colsample_bytree"],
        min_child_weight=float(hp["min_samples_leaf"]), reg_lambda=hp["reg_lambda"], tree_method="hist",
        device=hp["device"], random_state=seed, n_jobs=n_jobs))]


def _lightgbm_regressor(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from lightgbm import LGBMRegressor

    return [("model", LGBMRegressor(
        n_estimators=hp["n_estimators"], max_depth=_depth(hp, -1), learning_rate=hp["learning_rate"],
        num_leaves=hp["num_leaves"], subsample=hp["subsample"], subsample_freq=1 if hp["subsample"] < 1 else 0,
        colsample_bytree=hp["colsample_bytree"], min_child_samples=hp["min_samples_leaf"],
        reg_lambda=hp["reg_lambda"], random_state=seed, n_jobs=n_jobs, deterministic=True,
        force_row_wise=True, verbose=-1))]


def _lightgbm(hp: Mapping[str, Any], seed: int, n_jobs: int) -> Steps:
    from lightgbm import LGBMClassifier

    return [("model", LGBMClassifier(
        n_estimators=hp["n_estimators"], max_depth=_depth(hp, -1), learning_rate=hp["learning_rate"],
        num_leaves=hp["num_leaves"], subsample=hp["subsample"], subsample_freq=1 if hp["subsample"] < 1 else 0,
        colsample_bytree=hp["colsample_bytree"], min_child_samples=hp["min_samples_leaf"],
        reg_lambda=hp["reg_lambda"], random_state=seed, n_jobs=n_jobs, deterministic=True,
        force_row_wise=True, verbose=-1))]


_NONE = CALIBRATION.with_default("none")
# Defaults are the libraries' own, so that a key left out of params.yaml means "library behaviour".
SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec("random_forest", _random_forest,
              (N_ESTIMATORS.with_default(100), MAX_DEPTH.with_default(0), MIN_SAMPLES_LEAF.with_default(1), _NONE),
              packages=(), trusted_types=("sklearn.tree._tree.Tree",),
              estimator_class="sklearn.ensemble._forest.RandomForestClassifier",
              build_regressor=_random_forest_regressor,
              regressor_class="sklearn.ensemble._forest.RandomForestRegressor"),
    ModelSpec("gradient_boosting", _gradient_boosting,
              (N_ESTIMATORS.with_default(100), MAX_DEPTH.with_default(0), LEARNING_RATE.with_default(0.1),
               MIN_SAMPLES_LEAF.with_default(20), _NONE),
              packages=(), trusted_types=("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",),
              estimator_class="sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
                              "HistGradientBoostingClassifier",
              build_regressor=_gradient_boosting_regressor,
              regressor_class="sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
                              "HistGradientBoostingRegressor"),
    ModelSpec("logistic_regression", _logistic_regression, (C.with_default(1.0), _NONE),
              packages=(), trusted_types=("numpy.dtype",),
              estimator_class="sklearn.linear_model._logistic.LogisticRegression"),
    ModelSpec("xgboost", _xgboost,
              (N_ESTIMATORS.with_default(100), MAX_DEPTH.with_default(6), LEARNING_RATE.with_default(0.3),
               SUBSAMPLE.with_default(1.0), COLSAMPLE_BYTREE.with_default(1.0), MIN_SAMPLES_LEAF.with_default(1),
               REG_LAMBDA.with_default(1.0), DEVICE.with_default("cpu"), _NONE),
              packages=("xgboost",), trusted_types=("xgboost.core.Booster", "xgboost.sklearn.XGBClassifier",
                                                    "xgboost.sklearn.XGBRegressor"),
              estimator_class="xgboost.sklearn.XGBClassifier",
              build_regressor=_xgboost_regressor, regressor_class="xgboost.sklearn.XGBRegressor"),
    ModelSpec("lightgbm", _lightgbm,
              (N_ESTIMATORS.with_default(100), MAX_DEPTH.with_default(0), LEARNING_RATE.with_default(0.1),
               NUM_LEAVES.with_default(31), SUBSAMPLE.with_default(1.0), COLSAMPLE_BYTREE.with_default(1.0),
               MIN_SAMPLES_LEAF.with_default(20), REG_LAMBDA.with_default(0.0), _NONE),
              packages=("lightgbm",), trusted_types=("collections.OrderedDict", "lightgbm.basic.Booster",
                                                     "lightgbm.sklearn.LGBMClassifier",
                                                     "lightgbm.sklearn.LGBMRegressor"),
              estimator_class="lightgbm.sklearn.LGBMClassifier",
              build_regressor=_lightgbm_regressor, regressor_class="lightgbm.sklearn.LGBMRegressor"),
)}
MODEL_NAMES = tuple(SPECS)
# Every hyperparameter some family reads, by name (a shared `train.<key>` must be one of them).
HYPERPARAMETERS: dict[str, Hyperparameter] = {h.name: replace(h, default=None)
                                              for spec in SPECS.values() for h in spec.hyperparameters}


def model_spec(name: Any, key: str = "train.<task>.model") -> ModelSpec:
    """The spec of family `name`; unknown → ParamsError naming `key` and the known families."""
    if not isinstance(name, str) or name not in SPECS:
        raise ParamsError(key, f"unknown model {name!r}; expected one of {list(MODEL_NAMES)}")
    return SPECS[name]


def build_model(name: str, hp: Mapping[str, Any], seed: int, n_jobs: int, n_targets: int = 0) -> Pipeline:
    """An unfitted Pipeline of family `name`; hyperparameters missing from `hp` get the schema's
    defaults, every given one is checked (keys this family does not use are ignored).

    `n_targets` > 0 builds the family's regressor instead (ParamsError when it has none, or with
    calibration); several targets are fitted by one MultiOutputRegressor (one model per target inside)."""
    from sklearn.pipeline import Pipeline

    spec = model_spec(name)
    full = spec.resolve(hp)
    if n_targets > 0:
        return _regression_model(spec, full, seed, n_jobs, n_targets)
    steps = spec.build(full, seed, n_jobs)
    if full["calibration"] != "none":
        from sklearn.calibration import CalibratedClassifierCV

        return Pipeline([("model", CalibratedClassifierCV(Pipeline(steps), method=full["calibration"], cv=3))])
    return Pipeline(steps)


def _regression_model(spec: ModelSpec, hp: Mapping[str, Any], seed: int, n_jobs: int, n_targets: int) -> Pipeline:
    from sklearn.pipeline import Pipeline

    if spec.build_regressor is None:
        regressors = [s.name for s in SPECS.values() if s.build_regressor is not None]
        raise ParamsError("train.<task>.model", f"{spec.name} has no regressor; a regression task takes one of "
                                                f"{regressors}")
    if hp["calibration"] != "none":
        raise ParamsError("train.calibration", "probability calibration does not apply to a regression task; "
                                               "set it to none in train.<task>")
    steps = spec.build_regressor(hp, seed, n_jobs)
    if n_targets == 1:
        return Pipeline(steps)
    from sklearn.multioutput import MultiOutputRegressor

    *head, (name, estimator) = steps
    return Pipeline([*head, (name, MultiOutputRegressor(estimator))])


@dataclass(frozen=True)
class TrainConfig:
    """What the train stage needs for one task, checked: the family, its complete hyperparameters,
    the seed and the number of threads."""

    spec: ModelSpec
    hyperparameters: dict[str, Any]
    seed: int
    n_jobs: int

    def build(self, n_targets: int = 0) -> Pipeline:
        """The unfitted model: a classifier, or a regressor of `n_targets` targets (see build_model)."""
        return build_model(self.spec.name, self.hyperparameters, self.seed, self.n_jobs, n_targets)

    def logged_params(self) -> dict[str, Any]:
        """The values to log: the family, every hyperparameter it gets, seed and n_jobs."""
        return {"model": self.spec.name, **self.hyperparameters, "seed": self.seed, "n_jobs": self.n_jobs}


SEED = Hyperparameter("seed", "int", "random seed", low=0)
N_JOBS = Hyperparameter("n_jobs", "int", "threads", low=1)


def train_config(train: Mapping[str, Any], task: str, tasks: list[str] | tuple[str, ...]) -> TrainConfig:
    """The checked training set-up of `task` from the `train` group (see resolve_train_params)."""
    name, hp = resolve_train_params(train, task, tasks)
    for setting in (SEED, N_JOBS):
        if setting.name not in train:
            raise ParamsError(f"train.{setting.name}", f"missing: expected {setting.range_text()}")
    return TrainConfig(SPECS[name], hp, SEED.check(train["seed"], "train.seed"),
                       N_JOBS.check(train["n_jobs"], "train.n_jobs"))


def resolve_train_params(train: Mapping[str, Any], task: str,
                         tasks: list[str] | tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """(model name, complete hyperparameters) for `task`: the family's defaults, overridden by the
    shared `train.<key>`, overridden by `train.<task>.<key>`. A null value sets nothing at its level
    (params.yaml lists every shared key, null where each family keeps its own default).

    Every shared key must be a hyperparameter of some family and every value must fit its schema,
    whichever model uses it; a task key must be one too. `train.<task>.model` is required. Any
    problem is a ParamsError naming the key (e.g. `train.n_estimators`, `train.fire_risk.max_depth`).
    """
    shared: dict[str, Any] = {}
    for key, value in train.items():
        if key in tasks or key in TRAIN_SETTINGS:
            continue
        known = _known(key, f"train.{key}")
        if value is not None:
            shared[key] = known.check(value, f"train.{key}")
    own = train.get(task)
    if own is None:
        raise ParamsError(f"train.{task}.model", "missing: name the model for this task")
    if not isinstance(own, Mapping):
        raise ParamsError(f"train.{task}", f"expected a mapping with at least `model`, got {own!r}")
    if "model" not in own:
        raise ParamsError(f"train.{task}.model", "missing: name the model for this task")
    spec = model_spec(own["model"], f"train.{task}.model")
    overrides: dict[str, Any] = {}
    for key, value in own.items():
        if key == "model":
            continue
        known = _known(key, f"train.{task}.{key}")
        if value is None:
            continue
        overrides[key] = known.check(value, f"train.{task}.{key}")
        if spec.hyperparameter(key) is None:
            log.warning("train.%s.%s is ignored: %s does not use %s (it uses %s)", task, key, spec.name, key,
                        [h.name for h in spec.hyperparameters])
    device = {**shared, **overrides}.get("device", "cpu")
    if device != "cpu" and spec.hyperparameter("device") is None:
        log.warning("train.device=%s is ignored for %s: %s trains on the CPU (only xgboost takes a device)",
                    device, task, spec.name)
    keys = {k: f"train.{task}.{k}" for k in overrides}
    return spec.name, spec.resolve({**shared, **overrides}, keys)


def _known(name: str, key: str) -> Hyperparameter:
    if name not in HYPERPARAMETERS:
        raise ParamsError(key, f"unknown hyperparameter; expected one of {sorted(HYPERPARAMETERS)}")
    return HYPERPARAMETERS[name]


def final_estimator(model: Any) -> Any:
    """The fitted model's estimator, unwrapped from the Pipeline and any calibration or multi-output wrapper."""
    from sklearn.pipeline import Pipeline

    est = model.steps[-1][1] if isinstance(model, Pipeline) else model
    inner = getattr(est, "estimator", None)
    if inner is not None and type(est).__name__ in ("CalibratedClassifierCV", "MultiOutputRegressor"):
        return final_estimator(inner)
    return est


def is_calibrated(model: Any) -> bool:
    from sklearn.pipeline import Pipeline

    est = model.steps[-1][1] if isinstance(model, Pipeline) else model
    return type(est).__name__ == "CalibratedClassifierCV"


def spec_of(model: Any) -> ModelSpec:
    """The family a fitted (or unfitted) Pipeline belongs to, recognised by its estimator's class."""
    cls = type(final_estimator(model))
    path = f"{cls.__module__}.{cls.__qualname__}"
    for spec in SPECS.values():
        if path in (spec.estimator_class, spec.regressor_class):
            return spec
    raise DataError(f"the model's estimator {path} belongs to no known family {list(MODEL_NAMES)}")


def skops_trusted_types(spec: ModelSpec, calibrated: bool) -> list[str]:
    """The types skops must trust to load a fitted model of this family."""
    return sorted({*spec.trusted_types, *(CALIBRATION_TRUSTED_TYPES if calibrated else ())})


def describe_hyperparameters() -> str:
    """A plain table of every family's hyperparameters: type and valid values, default, meaning."""
    lines = [f"{'model':<20} {'key':<18} {'valid values':<40} {'default':<8} meaning"]
    for spec in SPECS.values():
        for h in spec.hyperparameters:
            lines.append(f"{spec.name:<20} {h.name:<18} {h.range_text():<40} {h.default!s:<8} {h.help}")
    return "\n".join(lines)


def feature_importance(model: Pipeline, features: list[str]) -> dict[str, float] | None:
    """The fitted model's own importance per feature (|coef| for linear models), or None."""
    est = model.steps[-1][1]
    if hasattr(est, "calibrated_classifiers_"):
        return None
    values = getattr(est, "feature_importances_", None)
    if values is None and hasattr(est, "coef_"):
        values = abs(est.coef_[0])
    if values is None or len(values) != len(features):
        return None
    total = float(sum(values)) or 1.0
    return {f: float(v) / total for f, v in zip(features, values)}
