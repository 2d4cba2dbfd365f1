"""Building blocks of the admin routes: shared checks and audit, the catalog and plant router
factories, and the request bodies. No module here is a route module itself."""
