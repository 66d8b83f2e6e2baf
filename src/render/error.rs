//! Errors and diagnostics of the render part.
//!
//! A *diagnostic* is a problem that did not stop rendering (a template typo that fell back to
//! the built-in template, an unknown markup directive shown as text). An *error* means no
//! output was produced: invalid options, or a failure that even the built-in template hit.
use std::fmt;

/// Where a diagnostic came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// minijinja compile or render of a template.
    Template,
    /// The receipt markup the template produced.
    Markup,
    /// Reading an override template from disk.
    Loader,
}

/// A problem in a template or the markup it made, at the template's own line and column.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub stage: Stage,
    /// Template name (e.g. `ticket.j2`) or override file path.
    pub file: String,
    /// 1-based line in the template source (markup problems are traced back to the template
    /// line that produced them), when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the offending text on that line, when known.
    pub column: Option<usize>,
    pub message: String,
    /// The offending text, e.g. the unknown style word or the unclosed tag.
    pub snippet: Option<String>,
    /// The template still renders as written, only this part is empty or shows a name (an unknown variable
    /// or heading key, a missing picture file): the printed receipt keeps the template, and the problem is
    /// reported (and logged once per template on the server), never a reason to fall back to the built-in.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
}

impl Diagnostic {
    /// A diagnostic without position.
    pub fn new(stage: Stage, file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            stage,
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            snippet: None,
            warning: false,
        }
    }

    /// The same problem as a warning (see [`Diagnostic::warning`]).
    pub fn as_warning(mut self) -> Diagnostic {
        self.warning = true;
        self
    }

    /// The diagnostic with the template line shown under it and a caret at the column, as a
    /// compiler prints it (for the command line).
    pub fn pretty(&self, source: &str) -> String {
        let mut out = self.to_string();
        if let Some(line) = self.line
            && let Some(text) = source.lines().nth(line.saturating_sub(1))
        {
            let gutter = line.to_string().len();
            out.push_str(&format!("\n{:gutter$} |\n{line} | {text}\n{:gutter$} | ", "", ""));
            let col = self.column.unwrap_or(1).saturating_sub(1);
            let width = self.snippet.as_deref().map(|s| s.chars().count()).unwrap_or(1).max(1);
            let lead: String = text.chars().take(col).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            out.push_str(&format!("{lead}{}", "^".repeat(width)));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Template => "template",
            Stage::Markup => "markup",
            Stage::Loader => "loader",
        };
        match (self.line, self.column) {
            (Some(line), Some(col)) => write!(f, "{stage} {}:{line}:{col}: {}", self.file, self.message)?,
            (Some(line), None) => write!(f, "{stage} {}:{line}: {}", self.file, self.message)?,
            _ => write!(f, "{stage} {}: {}", self.file, self.message)?,
        }
        match &self.snippet {
            Some(s) if !self.message.contains(s.as_str()) => write!(f, " (at `{s}`)"),
            _ => Ok(()),
        }
    }
}

/// An option outside its allowed range. `field()` names the request field, so the API can
/// answer with its `invalid_fields` code.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptionsError {
    #[error("image_width must be within 200..=2048, got {0}")]
    ImageWidth(i64),
    #[error(
        "image_scale must be within {min}..=4 (below {min} the digits blur: 0 reads as 8), got {0}",
        min = crate::render::options::min_image_scale()
    )]
    ImageScale(f64),
    #[error("image_pixel_draw_threshold must be within 0..=255, got {0}")]
    Threshold(i64),
    #[error("text_columns must be within 16..=128, got {0}")]
    TextColumns(i64),
    #[error("lang must be one of ru, kk, ru+kk, kk+ru; got {0:?}")]
    Lang(String),
    #[error("printer profile {field}: {reason}")]
    Profile { field: &'static str, reason: String },
}

impl OptionsError {
    /// The name of the offending field as the API spells it.
    pub fn field(&self) -> &'static str {
        match self {
            OptionsError::ImageWidth(_) => "image_width",
            OptionsError::ImageScale(_) => "image_scale",
            OptionsError::Threshold(_) => "image_pixel_draw_threshold",
            OptionsError::TextColumns(_) => "text_columns",
            OptionsError::Lang(_) => "lang",
            OptionsError::Profile { field, .. } => field,
        }
    }
}

/// Rendering produced no output.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// Even the built-in template failed: a bug in Kassa, not in the integrator's template.
    #[error("built-in template failed: {0}")]
    Builtin(Diagnostic),
    /// The template failed (only from `Renderer::preview`, which does not fall back).
    #[error("{0}")]
    Template(Diagnostic),
    #[error("PNG encoding failed: {0}")]
    Png(String),
    /// The drawing would take more memory than a render may ([`crate::render::backend::png::MAX_BITMAP_BYTES`]).
    #[error("{0}")]
    TooLarge(String),
    /// No country folder holds this template (a key no built-in answers to).
    #[error("no template {0}")]
    UnknownTemplate(String),
}
