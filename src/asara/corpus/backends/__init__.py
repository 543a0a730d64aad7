"""Backends turn request bodies into stored responses. Only this package talks to the network."""
