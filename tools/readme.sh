#!/usr/bin/env bash
# Render README.md (and its pictures under README_files/) from nbs/index.ipynb, offline.
# nbdev-readme needs Quarto and the docs config; this needs only nbconvert.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf README_files
jupyter nbconvert --to markdown nbs/index.ipynb --TemplateExporter.exclude_input=True --output-dir . --output README
