"""The packages the MRO oracle covers, at exact versions, and the venv they are installed in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OraclePackage:
    dist: str  # distribution name, as pip and docgen's --source spell it
    version: str
    package: str  # top-level import name

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"


PACKAGES = (
    OraclePackage("django", "5.2.17", "django"),
    OraclePackage("sqlalchemy", "2.0.54", "sqlalchemy"),
    OraclePackage("numpy", "2.2.6", "numpy"),
    OraclePackage("pydantic", "2.13.5", "pydantic"),
    OraclePackage("scikit-learn", "1.9.1", "sklearn"),
    OraclePackage("requests", "2.34.2", "requests"),
)

# Every distribution of the oracle venv pinned, dependencies included, so the venv (and so
# the committed JSON) is the same wherever it is built.
REQUIREMENTS = (
    *(p.requirement for p in PACKAGES),
    "annotated-types==0.8.0",
    "asgiref==3.13.0",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "cloudpickle==3.1.3",
    "greenlet==3.5.6",
    "idna==3.20",
    "joblib==1.6.0",
    "narwhals==2.29.0",
    "pydantic-core==2.46.5",
    "scipy==1.17.1",
    "sqlparse==0.6.1",
    "threadpoolctl==3.8.0",
    "typing-extensions==4.16.0",
    "typing-inspection==0.4.5",
    "urllib3==2.8.0",
)
