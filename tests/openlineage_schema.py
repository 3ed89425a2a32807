"""Validate an OpenLineage event (as sent, JSON) against the spec files kept in tests/openlineage_spec."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = Path(__file__).parent / "openlineage_spec"
CORE = "urn:d2b-tests:openlineage-core"
# Where each facet key of an event is defined: (facet file, its definition).
FACETS = {
    ("run", "parent"): ("ParentRunFacet.json", "ParentRunFacet"),
    ("run", "errorMessage"): ("ErrorMessageRunFacet.json", "ErrorMessageRunFacet"),
    ("run", "tags"): ("TagsRunFacet.json", "TagsRunFacet"),  # added by the client (its version)
    ("job", "jobType"): ("JobTypeJobFacet.json", "JobTypeJobFacet"),
    ("job", "sql"): ("SQLJobFacet.json", "SQLJobFacet"),
    ("dataset", "schema"): ("SchemaDatasetFacet.json", "SchemaDatasetFacet"),
    ("dataset", "columnLineage"): ("ColumnLineageDatasetFacet.json", "ColumnLineageDatasetFacet"),
    ("input", "dataQualityMetrics"): (
        "DataQualityMetricsInputDatasetFacet.json",
        "DataQualityMetricsInputDatasetFacet",
    ),
    ("output", "outputStatistics"): ("OutputStatisticsOutputDatasetFacet.json", "OutputStatisticsOutputDatasetFacet"),
}


def _registry() -> tuple[Registry, dict[str, str]]:
    core = json.loads((SPEC / "OpenLineage.json").read_text())
    # The facet files extend the core's base facets under several core versions; each is the BaseFacet.
    bases = {
        "$defs": {
            name: {"$ref": f"{CORE}#/definitions/BaseFacet"}
            for name in ("RunFacet", "JobFacet", "DatasetFacet", "InputDatasetFacet", "OutputDatasetFacet")
        }
    }
    resources = [(CORE, core)] + [
        (f"https://openlineage.io/spec/{version}/OpenLineage.json", bases) for version in ("1-0-1", "1-0-2", "2-0-2")
    ]
    ids = {}
    for path in sorted((SPEC / "facets").glob("*.json")):
        document = json.loads(path.read_text())
        ids[path.name] = document["$id"]
        resources.append((document["$id"], document))
    registry = Registry().with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT202012)) for uri, doc in resources
    )
    return registry, ids


_REGISTRY, _IDS = _registry()


def _validate(instance: Any, ref: str) -> None:
    Draft202012Validator({"$ref": ref}, registry=_REGISTRY, format_checker=FormatChecker()).validate(instance)


def validate_event(event: dict[str, Any]) -> None:
    """Raise jsonschema's ValidationError naming what is wrong; every facet must have a spec file."""
    _validate(event, f"{CORE}#/definitions/RunEvent")
    datetime.fromisoformat(event["eventTime"])  # the copy's checker does not check date-time
    facets = [("run", k, v) for k, v in event["run"].get("facets", {}).items()]
    facets += [("job", k, v) for k, v in event["job"].get("facets", {}).items()]
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        facets += [("dataset", k, v) for k, v in dataset.get("facets", {}).items()]
        facets += [("input", k, v) for k, v in dataset.get("inputFacets", {}).items()]
        facets += [("output", k, v) for k, v in dataset.get("outputFacets", {}).items()]
    for where, key, facet in facets:
        assert (where, key) in FACETS, f"no spec file for the {where} facet {key!r}: add it to tests/openlineage_spec"
        file, definition = FACETS[(where, key)]
        _validate(facet, f"{_IDS[file]}#/$defs/{definition}")
