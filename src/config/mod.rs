//! Configuration: read the TOML file, validate it, and hand out the engine's view.
//!
//! Every error names `file:line:column` and says in plain words what is wrong.

mod engine_setup;
pub mod schema;
mod sip_checks;
pub mod sip_schema;
mod summary;
mod validate;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use schema::Config;

/// A configuration that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

/// A reason tied to a byte range of the source; turned into a `ConfigError` with the text at hand.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub span: Range<usize>,
    pub reason: String,
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn locate(file: &Path, text: &str, span: Range<usize>, reason: String) -> ConfigError {
    let (line, column) = line_column(text, span.start);
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        reason,
    }
}

/// Parse and validate configuration text; `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        locate(file, text, span, e.message().trim().to_string())
    })?;
    validate::check(&config).map_err(|p| locate(file, text, p.span, p.reason))?;
    Ok(config)
}

/// Read, parse and validate a configuration file.
pub fn load(file: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        reason: format!("cannot read the file: {e}"),
    })?;
    parse(file, &text)
}

#[cfg(test)]
mod tests;
