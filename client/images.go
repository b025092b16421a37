package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// ListImages returns the worker images and image aliases of the catalog
// (GET /api/v1/images), with statuses at the server's clock.
func (c *Client) ListImages(ctx context.Context) (*api.ImageList, error) {
	var l api.ImageList
	if err := c.do(ctx, http.MethodGet, "/api/v1/images", nil, &l); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return &l, nil
}

// GetImage returns image id with its tools and builds (GET
// /api/v1/images/{id}). An alias id is an *Error with Status 404: aliases
// resolve through ListImages.
func (c *Client) GetImage(ctx context.Context, id string) (*api.Image, error) {
	var im api.Image
	if err := c.do(ctx, http.MethodGet, "/api/v1/images/"+url.PathEscape(id), nil, &im); err != nil {
		return nil, fmt.Errorf("get image %s: %w", id, err)
	}
	return &im, nil
}

// ReloadCatalog makes the server read its catalog file again (POST
// /api/v1/admin/catalog/reload, admin token) and returns the catalog now
// in force. A server started without --catalog answers an *Error with
// Status 409, a broken file one with Status 400 and Field "catalog"; either
// way the catalog in force stays.
func (c *Client) ReloadCatalog(ctx context.Context) (*api.ImageList, error) {
	var l api.ImageList
	if err := c.do(ctx, http.MethodPost, "/api/v1/admin/catalog/reload", nil, &l); err != nil {
		return nil, fmt.Errorf("reload catalog: %w", err)
	}
	return &l, nil
}

// AddBuild adds build req to image imageID (POST
// /api/v1/admin/images/{id}/builds, admin token) and returns the image
// with it. The build lasts until the next reload or restart; see
// api.AddBuildRequest.
func (c *Client) AddBuild(ctx context.Context, imageID string, req api.AddBuildRequest) (*api.Image, error) {
	var im api.Image
	path := "/api/v1/admin/images/" + url.PathEscape(imageID) + "/builds"
	if err := c.do(ctx, http.MethodPost, path, req, &im); err != nil {
		return nil, fmt.Errorf("add build %q to image %s: %w", req.Version, imageID, err)
	}
	return &im, nil
}

// ListDeprecations returns, for every tenant, each pool that names a
// deprecated image and the days left before its steps fail (GET
// /api/v1/admin/deprecations, admin token).
func (c *Client) ListDeprecations(ctx context.Context) ([]api.Deprecation, error) {
	var l api.DeprecationList
	if err := c.do(ctx, http.MethodGet, "/api/v1/admin/deprecations", nil, &l); err != nil {
		return nil, fmt.Errorf("list deprecations: %w", err)
	}
	return l.Deprecations, nil
}
