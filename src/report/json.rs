//! `funnel.json`: every figure of the report, pretty-printed. Deterministic: struct fields in
//! declaration order, rows in the order of the funnel's enums, floats already rounded.

use super::{Figures, ReportError};
use std::path::{Path, PathBuf};

/// The figures as JSON text (with a final newline).
pub fn to_string(figures: &Figures) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(figures)?;
    text.push('\n');
    Ok(text)
}

/// Writes the figures to `path` and returns it.
pub fn write(path: &Path, figures: &Figures) -> Result<PathBuf, ReportError> {
    let text = to_string(figures).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    std::fs::write(path, text).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(path.to_path_buf())
}
