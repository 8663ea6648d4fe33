"""The owners' retention dashboard: pages over crm.metrics."""
