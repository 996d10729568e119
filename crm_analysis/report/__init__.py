"""The papermill report chain, its run context and the ``crm-analysis`` CLI."""
