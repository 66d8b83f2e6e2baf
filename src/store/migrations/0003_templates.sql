-- Receipt templates by content: a document remembers the template version that first rendered it, so a
-- reprint years later renders with exactly that source.
CREATE TABLE templates (
    sha256  TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    source  TEXT NOT NULL
);
ALTER TABLE documents ADD COLUMN template_sha256 TEXT REFERENCES templates (sha256);
