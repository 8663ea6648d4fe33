"""How the OpenAPI schema describes token authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token an Owner makes under Settings → API tokens; "
            "`Authorization: Bearer <token>` (`Token <token>` works too).",
        }


def forbid_unknown_fields(result: dict, generator, request, public) -> dict:
    """Say in the schema what the serializers enforce: a request body may hold
    only the listed fields (see serializers.StrictFieldsMixin)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
