"""The data broker: external API manifest, the async HTTP service, and per-widget routing."""

from broker.data_broker import BrokeredWidget, DataBroker
from broker.external import ApiRequest, ExternalAPIError, ExternalAPIService
from broker.manifest import ApiSpec, Manifest, load_manifest, parse_manifest

__all__ = [
    "ApiRequest",
    "ApiSpec",
    "BrokeredWidget",
    "DataBroker",
    "ExternalAPIError",
    "ExternalAPIService",
    "Manifest",
    "load_manifest",
    "parse_manifest",
]
