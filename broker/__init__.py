"""The data broker: external API manifest, SSRF guard, cache, breakers, and per-widget routing."""

from broker.data_broker import BrokeredWidget, DataBroker
from broker.external import ApiRequest, ExternalAPIService, Fetched
from broker.manifest import ApiSpec, Manifest, ManifestLoader, load_manifest, parse_manifest
from broker.state import BrokerState

__all__ = [
    "ApiRequest",
    "ApiSpec",
    "BrokerState",
    "BrokeredWidget",
    "DataBroker",
    "ExternalAPIService",
    "Fetched",
    "Manifest",
    "ManifestLoader",
    "load_manifest",
    "parse_manifest",
]
