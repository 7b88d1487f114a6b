"""HTTP helpers below both edges (``/graphql``, ``/api/v1``, ``/health``): the JSON response
class and bounded body reading. Nothing here knows GraphQL or REST."""
