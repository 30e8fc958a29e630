using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Endpoints;
using Dtr.AspNetCore.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.DependencyInjection;

/// <summary>Registers authentication, authorization and the token endpoint.</summary>
internal static class RegistrySecurityServiceCollectionExtensions
{
    /// <summary>
    /// Adds the security services. They need an <see cref="Identity.IIdentityStore"/> only when
    /// <see cref="RegistryAuthOptions.Enabled"/> is set, because the /v2 gate and the token endpoint resolve them on
    /// first use.
    /// </summary>
    public static IServiceCollection AddRegistrySecurity(IServiceCollection services)
    {
        services.TryAddSingleton<SigningKeyProvider>();
        services.TryAddSingleton<VerifiedTokenCache>();
        services.TryAddSingleton<RegistryTokenService>();
        services.TryAddSingleton<FailedLoginLimiter>();

        // Factories, because service validation at build time would otherwise require an identity store even on a
        // host with authentication off.
        services.TryAddSingleton(provider => ActivatorUtilities.CreateInstance<RegistryAuthorizer>(provider));
        services.TryAddSingleton(provider => ActivatorUtilities.CreateInstance<RegistryAuthenticator>(provider));
        services.TryAddSingleton<IRegistryAuthenticator>(provider => provider.GetRequiredService<RegistryAuthenticator>());
        services.TryAddSingleton<RegistryAccessGate>();
        services.TryAddSingleton<TokenEndpoints>();
        services.TryAddSingleton<RegistrySessions>();
        services.AddHostedService<SigningKeyStartup>();
        return services;
    }

    /// <summary>Loads or generates the signing key at start, so a bad key file stops the host before it serves.</summary>
    private sealed class SigningKeyStartup(IOptions<RegistryOptions> options, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.Value.Auth.Enabled)
            {
                services.GetRequiredService<SigningKeyProvider>().EnsureLoaded();
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
