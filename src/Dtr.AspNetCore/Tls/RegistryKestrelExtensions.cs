using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Serves HTTPS with the certificate of <see cref="RegistryCertificateProvider"/>.</summary>
public static class RegistryKestrelExtensions
{
    /// <summary>
    /// Makes every HTTPS endpoint of the server, including those from <c>--urls https://…</c>, present the registry's
    /// current certificate. Kestrel calls the certificate selector at each TLS handshake, so a certificate replaced through the
    /// management API applies to the next connection without a restart. With
    /// <c>Registry:ClientCertificates:Enabled</c>, the endpoints also request a client certificate.
    /// </summary>
    public static KestrelServerOptions UseRegistryCertificate(this KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ConfigureHttpsDefaults(https =>
        {
            https.ServerCertificateSelector = (_, _) => options.ApplicationServices.GetRequiredService<RegistryCertificateProvider>().Current;
            RequestClientCertificate(https, options.ApplicationServices);
        });
        return options;
    }

    /// <summary>
    /// Serves HTTPS on this endpoint with the registry's current certificate, read at each TLS handshake, and requests
    /// a client certificate when <c>Registry:ClientCertificates:Enabled</c> is set.
    /// </summary>
    public static ListenOptions UseRegistryCertificate(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        var provider = listenOptions.ApplicationServices.GetRequiredService<RegistryCertificateProvider>();
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => provider.Current,
        };
        RequestClientCertificate(https, listenOptions.ApplicationServices);
        return listenOptions.UseHttps(https);
    }

    /// <summary>
    /// Asks clients for a certificate without requiring one, so that password and token clients still connect. The
    /// handshake accepts any certificate, because the registry validates it against its own trusted authorities on
    /// each request and rejects an untrusted one with a 401 whose message gives the reason, which a failed handshake
    /// cannot.
    /// </summary>
    private static void RequestClientCertificate(HttpsConnectionAdapterOptions https, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<RegistryOptions>>().Value;
        if (!options.ClientCertificates.Enabled || !options.Auth.Enabled)
        {
            return;
        }

        services.GetRequiredService<ClientCertificateValidator>().EnsureLoadedAtStart();
        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        https.ClientCertificateValidation = (_, _, _) => true;
        https.CheckCertificateRevocation = false;
    }
}
