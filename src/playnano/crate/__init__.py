"""RO-Crate records of runs: which software, with which parameters, turned which
inputs (by SHA-256) into which outputs.

A run's output folder gets ``ro-crate-metadata.json``, an `RO-Crate 1.1
<https://w3id.org/ro/crate/1.1>`_ that follows the `Process Run Crate 0.5
<https://w3id.org/ro/wfrun/process/0.5>`_ profile, the form data repositories
(Zenodo, InvenioRDM, WorkflowHub) read. Each input becomes one ``CreateAction``:

- ``instrument``: playnano (with its version) and, as its ``softwareRequirements``,
  every plugin that read or wrote a file of the action, with versions;
- ``object``: the input file (``#input-…``: inputs live outside the crate, so they
  are named by path as given, SHA-256 and size), then one ``PropertyValue`` per
  setting (each step in the CLI's ``name:param=value`` syntax, the formats and
  their options, channel, raw);
- ``result``: each output inside the folder by relative path, with its SHA-256,
  size, format and media type (a folder output, such as a PNG sequence or an
  OME-Zarr store, is a ``Dataset`` whose SHA-256 is
  :func:`playnano.provenance.sha256_of`'s folder digest);
- ``startTime``, ``endTime``, ``actionStatus`` (completed or failed) and, for a
  failed or partly failed input, ``error`` (its one-line message);
- ``agent``: the first author given to the run (``--crate-author``), who ran it.

The root names the crate's ``author`` (people, by ORCID iD where given, affiliated
with the ``publisher``), its ``publisher`` (``--crate-organization``) and its
``license`` (an SPDX licence page) when they are given
(:mod:`playnano.crate.people`); without a licence it says the data's owner sets
the terms.

The crate describes the files that are in the folder: writing it again (a second
``process --crate`` into the same folder, a resumed batch) keeps earlier actions
whose outputs are all still there and unchanged, and drops those whose outputs were
replaced or removed. Only JSON is built here; nothing is imported beyond the
standard library.
"""

from playnano.crate.document import (
    COMPLETED,
    CONTEXT,
    CRATE_NAME,
    FAILED,
    NO_LICENSE,
    PROCESS_RUN_CRATE,
    OutputRecord,
    RunAction,
    crate_document,
    step_text,
)
from playnano.crate.folder import crate_summary, read_crate, write_crate
from playnano.crate.people import (
    CrateIdentity,
    Organization,
    Person,
    license_url,
    parse_organization,
    parse_person,
)

__all__ = [
    "COMPLETED",
    "CONTEXT",
    "CRATE_NAME",
    "FAILED",
    "NO_LICENSE",
    "PROCESS_RUN_CRATE",
    "CrateIdentity",
    "Organization",
    "OutputRecord",
    "Person",
    "RunAction",
    "crate_document",
    "crate_summary",
    "license_url",
    "parse_organization",
    "parse_person",
    "read_crate",
    "step_text",
    "write_crate",
]
