-- Step templates (issue #13): versions of a tenant's templates, by name.
-- A sensitive parameter's default value is sealed by the server before it
-- is written into parameters (JSON): this table never holds one in plain
-- text.

-- +goose Up
CREATE TABLE step_templates (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    id          TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    syntax      TEXT NOT NULL,
    script_body TEXT NOT NULL,
    parameters  TEXT NOT NULL DEFAULT '[]',
    library_id  TEXT NOT NULL DEFAULT '',
    digest      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
) STRICT;

CREATE UNIQUE INDEX step_templates_id ON step_templates (id, version);

-- +goose Down
DROP TABLE step_templates;
