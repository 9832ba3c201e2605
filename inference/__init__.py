"""The inference tester: checks capability claims by calling a model endpoint.

Every model call goes through ``client`` (the OpenAI-compatible protocol over
httpx); ``probes`` turn a claim key into a behavioural test; ``services``
store each result as a ``catalog.Verification`` with its evidence.
"""
