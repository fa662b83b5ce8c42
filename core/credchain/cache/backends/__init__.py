"""The first-party cache backends, registered by entry point as a third party's would be."""
