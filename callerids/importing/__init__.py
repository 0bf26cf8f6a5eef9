"""Import of authorized CallerIDs from a CSV or XLSX file (SPEC §5.2).

- reading: the uploaded bytes -> raw lines (size and line limits, encoding, safe XLSX, header);
- checking: raw lines -> prepared rows and the report (every rule of a line, duplicates,
  "already on this extension", license room);
- progress: the progress row, written on a second database connection on PostgreSQL;
- services: check_import (the Check step) and confirm_import (the Confirm step).
"""
