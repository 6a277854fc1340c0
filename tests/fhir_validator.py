"""The HAPI FHIR validator (R4 core, offline) of `tools/fhir-validator/`, built and run for tests.

`build()` compiles it with Maven (the first time from Maven Central into ~/.m2, then offline) into
`var/fhir-validator/`, once per version of its sources; `validate()` runs one JVM over many files
with the project's conformance resources (`contracts/fhir/`) loaded. Warnings the hub accepts are
listed, each with its reason, in `tests/mappers/hapi-warnings-allowed.json`.

Also a command: `python -m tests.fhir_validator FILE-OR-DIR...` prints every issue.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tools" / "fhir-validator"
HOME = ROOT / "var" / "fhir-validator"
CONFORMANCE = ROOT / "contracts" / "fhir"
ALLOWED = ROOT / "tests" / "mappers" / "hapi-warnings-allowed.json"
MAIN = "example.referralhub.validator.Main"


class FhirValidatorError(RuntimeError):
    """Java or Maven is missing, or the build failed: the FHIR checks cannot run."""


@dataclass(frozen=True)
class Issue:
    file: str
    severity: str  # fatal | error | warning | information
    location: str
    message: str
    message_id: str | None

    def __str__(self) -> str:
        return f"{self.severity} {Path(self.file).name} {self.location}: {self.message}"


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([PROJECT / "pom.xml", *(PROJECT / "src").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(PROJECT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build() -> str:
    """The validator's class path, building it first when its sources changed."""
    missing = [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]
    if missing:
        raise FhirValidatorError(
            f"{', '.join(missing)} not found: the HAPI FHIR validator needs a Java 17 JDK and "
            "Maven (.ci/run installs them; on Debian: apt-get install openjdk-17-jdk-headless "
            "maven)"
        )
    jar, stamp = HOME / "fhir-validator.jar", HOME / f".built-{_sources_digest()}"
    HOME.parent.mkdir(parents=True, exist_ok=True)
    # Two test runs of one clone at once: one builds, the other waits for it.
    with (HOME.parent / "fhir-validator.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and jar.exists()):
            shutil.rmtree(HOME, ignore_errors=True)
            result = subprocess.run(
                ["mvn", "-q", "-B", "-f", str(PROJECT / "pom.xml"), "package"],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0 or not jar.exists():
                raise FhirValidatorError(
                    "mvn could not build tools/fhir-validator:\n"
                    + (result.stdout + result.stderr)[-4000:]
                )
            stamp.touch()
    return f"{jar}:{HOME / 'libs'}/*"


def validate(paths: list[Path], classpath: str | None = None) -> list[Issue]:
    """Every issue the validator finds in these files (or directories of them), in one JVM."""
    # One short run: the client compiler and the serial collector start fastest.
    command = [
        "java",
        "-Xmx1g",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        classpath or build(),
        MAIN,
        "--conformance",
        str(CONFORMANCE),
        *map(str, paths),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise FhirValidatorError(
            f"the validator failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    issues = []
    for line in result.stdout.splitlines():
        found = json.loads(line)
        issues.append(
            Issue(
                found["file"],
                found["severity"],
                found["location"],
                found["message"],
                found["messageId"],
            )
        )
    return issues


@dataclass(frozen=True)
class Allowed:
    pattern: re.Pattern[str]
    reason: str

    def matches(self, issue: Issue) -> bool:
        return self.pattern.search(issue.message) is not None


def allowed_warnings() -> list[Allowed]:
    """The committed allow-list: a regular expression on the message, and why it is accepted."""
    return [
        Allowed(re.compile(entry["pattern"]), entry["reason"])
        for entry in json.loads(ALLOWED.read_text())
    ]


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity in ("fatal", "error")]


def unexplained_warnings(issues: list[Issue], allowed: list[Allowed]) -> list[Issue]:
    return [i for i in issues if i.severity == "warning" and not any(a.matches(i) for a in allowed)]


def main(argv: list[str]) -> int:
    issues = validate([Path(a) for a in argv])
    for issue in issues:
        print(issue)
    return 1 if errors(issues) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
