using System.Security.Cryptography;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Creates the first system administrator from <c>Registry:Admin</c> at start, when authentication is on and the
/// identity store has no user yet. Without a configured password it generates one and logs it once, at Warning.
/// </summary>
internal sealed class AdministratorBootstrap : IHostedService
{
    // 18 random bytes make a 24-character base64url password with 144 bits of entropy.
    private const int GeneratedPasswordBytes = 18;

    private readonly IServiceProvider _services;
    private readonly RegistryOptions _options;
    private readonly ILogger<AdministratorBootstrap> _logger;

    public AdministratorBootstrap(IServiceProvider services, IOptions<RegistryOptions> options, ILogger<AdministratorBootstrap> logger)
    {
        _services = services;
        _options = options.Value;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Auth.Enabled)
        {
            return;
        }

        // Resolved only here, so a host with authentication off needs no identity store.
        var identity = _services.GetRequiredService<IIdentityStore>();
        if (await identity.AnyUserAsync(cancellationToken))
        {
            return;
        }

        var userName = _options.Admin.UserName;
        var configuredPassword = _options.Admin.Password;
        var password = string.IsNullOrEmpty(configuredPassword)
            ? System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(GeneratedPasswordBytes))
            : configuredPassword;

        var administrator = new NewUser { Name = userName, PasswordHash = PasswordHashing.Hash(password), IsAdmin = true };
        try
        {
            await identity.CreateUserAsync(administrator, cancellationToken);
        }
        catch (IdentityConflictException)
        {
            // Another instance on the same database created it between AnyUserAsync and here.
            ManagementLog.AdministratorCreatedElsewhere(_logger, userName);
            return;
        }

        if (string.IsNullOrEmpty(configuredPassword))
        {
            ManagementLog.AdministratorCreatedWithGeneratedPassword(_logger, userName, password);
        }
        else
        {
            ManagementLog.AdministratorCreated(_logger, userName);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
