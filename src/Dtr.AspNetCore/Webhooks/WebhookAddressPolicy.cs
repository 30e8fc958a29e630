using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// Enforces <see cref="RegistryWebhookOptions.AllowPrivateAddresses"/>: on saving a URL whose host is an IP address,
/// and on every connection after DNS resolution, so that a name resolving to an internal address is caught too.
/// </summary>
internal static class WebhookAddressPolicy
{
    /// <summary>
    /// Returns whether the address is loopback, unspecified, private (10/8, 172.16/12, 192.168/16, fc00::/7),
    /// shared (100.64/10) or link-local (169.254/16, fe80::/10), IPv4-mapped IPv6 addresses included.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        }

        var bytes = address.GetAddressBytes();
        return bytes[0] switch
        {
            0 or 10 => true,
            100 => bytes[1] is >= 64 and <= 127,
            169 => bytes[1] == 254,
            172 => bytes[1] is >= 16 and <= 31,
            192 => bytes[1] == 168,
            _ => false,
        };
    }

    /// <summary>
    /// Returns a connect callback for <see cref="SocketsHttpHandler"/> that resolves the host and, unless the options
    /// allow private addresses, connects only to public ones.
    /// </summary>
    /// <remarks>NOTE: with an HTTP proxy configured, the check applies to the proxy's address, not the receiver's.</remarks>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> CreateConnectCallback(IOptionsMonitor<RegistryOptions> options) =>
        async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            if (!options.CurrentValue.Webhooks.AllowPrivateAddresses)
            {
                addresses = addresses.Where(address => !IsPrivate(address)).ToArray();
                if (addresses.Length == 0)
                {
                    throw new HttpRequestException(
                        $"The host '{host}' resolves only to loopback, private or link-local addresses, which Registry:Webhooks:AllowPrivateAddresses=false forbids.");
                }
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
}
