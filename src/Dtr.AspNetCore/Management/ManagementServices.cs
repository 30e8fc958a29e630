using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.OpenApi;

namespace Dtr.AspNetCore.Management;

/// <summary>Registers the services of the management API.</summary>
internal static class ManagementServices
{
    /// <summary>Adds the endpoint handlers, the administrator bootstrap and the management API's OpenAPI document.</summary>
    public static void AddRegistryManagement(IServiceCollection services)
    {
        services.TryAddSingleton<ManagementRequestFilter>();
        services.TryAddSingleton<AuditEndpoints>();
        services.TryAddSingleton<WebhookEndpoints>();
        services.TryAddSingleton<ManagementAccess>();
        services.TryAddSingleton<TagDetailsReader>();
        services.TryAddSingleton<ManifestDetailsReader>();
        services.TryAddSingleton<ImageEndpoints>();
        services.TryAddSingleton<UserEndpoints>();
        services.TryAddSingleton<SessionEndpoints>();
        services.TryAddSingleton<OrganizationEndpoints>();
        services.TryAddSingleton<RepositoryEndpoints>();

        // Hosted services start in registration order, and AddCore registers this after RegistryStartup, so the
        // schema is migrated before the administrator is created.
        services.AddHostedService<AdministratorBootstrap>();

        services.AddOpenApi(ManagementEndpoints.OpenApiDocumentName, options =>
        {
            // Only the management endpoints, not those of the host or its other documents.
            options.ShouldInclude = description => description.GroupName == ManagementEndpoints.OpenApiDocumentName;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Dtr management API",
                    Version = "v0",
                    Description = "Users, organizations, teams, repositories, access tokens, scanning and garbage collection of a Dtr registry. "
                        + "Every endpoint but /session requires HTTP basic authentication (password or personal access token), a bearer token from /auth/token "
                        + "with scope registry:management:*, or the browser session cookie dtr_session from POST /session. With the cookie, requests other than "
                        + "GET, HEAD, OPTIONS and TRACE must send the session's csrfToken in the X-CSRF-Token header. "
                        + "Creating access tokens and changing passwords require a password sign-in.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["basic"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "basic" };
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer" };
                document.Components.SecuritySchemes["session"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Cookie,
                    Name = Security.RegistrySessions.CookieName,
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody?.Content?.Remove(ManagementEndpoints.AnyContentType);
                return Task.CompletedTask;
            });
        });
    }
}
