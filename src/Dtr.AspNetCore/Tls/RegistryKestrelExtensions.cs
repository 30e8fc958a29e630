using Dtr.AspNetCore.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Serves HTTPS with the certificate of <see cref="RegistryCertificateProvider"/>.</summary>
public static class RegistryKestrelExtensions
{
    /// <summary>
    /// Makes every HTTPS endpoint of the server, including those from <c>--urls https://…</c>, present the registry's
    /// current certificate. Kestrel calls the certificate selector at each TLS handshake, so a certificate replaced through the
    /// management API applies to the next connection without a restart.
    /// </summary>
    public static KestrelServerOptions UseRegistryCertificate(this KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ConfigureHttpsDefaults(https => https.ServerCertificateSelector = (_, _) =>
            options.ApplicationServices.GetRequiredService<RegistryCertificateProvider>().Current);
        return options;
    }

    /// <summary>Serves HTTPS on this endpoint with the registry's current certificate, read at each TLS handshake.</summary>
    public static ListenOptions UseRegistryCertificate(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        var provider = listenOptions.ApplicationServices.GetRequiredService<RegistryCertificateProvider>();
        return listenOptions.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => provider.Current,
        });
    }
}
