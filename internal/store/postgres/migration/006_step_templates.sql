-- Step templates (issue #13): versions of a tenant's templates, by name.
-- A sensitive parameter's default value is sealed by the server before it
-- is written into parameters (JSON): this table never holds one in plain
-- text.

-- +goose Up
CREATE TABLE step_templates (
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text NOT NULL,
    version     integer NOT NULL,
    id          text NOT NULL,
    description text NOT NULL DEFAULT '',
    syntax      text NOT NULL,
    script_body text NOT NULL,
    parameters  text NOT NULL DEFAULT '[]',
    library_id  text NOT NULL DEFAULT '',
    digest      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);

CREATE UNIQUE INDEX step_templates_id ON step_templates (id, version);

-- +goose Down
DROP TABLE step_templates;
