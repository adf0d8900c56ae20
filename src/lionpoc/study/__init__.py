"""Study: one optimizer's runs, notebook executions, the study's steps, results layout, tables, statistics."""
