using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// Enforces <see cref="RegistryWebhookOptions.AllowPrivateAddresses"/>: on saving a URL whose host is an IP address,
/// and on every connection after DNS resolution, so that a name resolving to an internal address is caught too.
/// A name is rejected when any of its addresses is blocked, not only when all are.
/// </summary>
internal static class WebhookAddressPolicy
{
    /// <summary>
    /// Returns whether the address is not a public unicast address. Blocked IPv4 ranges: 0/8, 10/8, 100.64/10
    /// (shared), 127/8, 169.254/16 (link-local), 172.16/12, 192.0.0/24, 192.168/16, 198.18/15 (benchmarking),
    /// 224/4 (multicast) and 240/4 (reserved, with 255.255.255.255). Blocked IPv6 ranges: unspecified, loopback,
    /// 100::/64 (discard), 64:ff9b:1::/48 (local NAT64), 2001::/32 (Teredo, whose embedded address is obfuscated),
    /// fc00::/7, fe80::/10, fec0::/10 and ff00::/8. IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64
    /// (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4 address they embed.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return IsPrivateIPv6(address);
        }

        return IsPrivateIPv4(address.GetAddressBytes());
    }

    private static bool IsPrivateIPv4(ReadOnlySpan<byte> bytes) => bytes[0] switch
    {
        0 or 10 or 127 => true,
        100 => bytes[1] is >= 64 and <= 127,
        169 => bytes[1] == 254,
        172 => bytes[1] is >= 16 and <= 31,
        192 => bytes[1] == 168 || (bytes[1] == 0 && bytes[2] == 0),
        198 => bytes[1] is 18 or 19,
        >= 224 => true,
        _ => false,
    };

    private static bool IsPrivateIPv6(IPAddress address)
    {
        ReadOnlySpan<byte> bytes = address.GetAddressBytes();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6Any)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast)
        {
            return true;
        }

        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the first 80 bits are zero.
        if (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && ((bytes[10] == 0xff && bytes[11] == 0xff) || (bytes[10] == 0 && bytes[11] == 0)))
        {
            return IsPrivateIPv4(bytes[12..]);
        }

        var prefix = (bytes[0] << 8) | bytes[1];
        var second = (bytes[2] << 8) | bytes[3];
        return prefix switch
        {
            // 64:ff9b::/96 embeds the IPv4 address in the last 32 bits; 64:ff9b:1::/48 is for local networks.
            0x0064 when second == 0xff9b => bytes[4..12].IndexOfAnyExcept((byte)0) >= 0 || IsPrivateIPv4(bytes[12..]),
            0x0064 => false,
            0x0100 => bytes[2..8].IndexOfAnyExcept((byte)0) < 0,
            0x2001 => second == 0,
            0x2002 => IsPrivateIPv4(bytes[2..6]),
            _ => false,
        };
    }

    /// <summary>
    /// Returns a connect callback for <see cref="SocketsHttpHandler"/> that resolves the host and, unless the options
    /// allow private addresses, fails when any resolved address is not public.
    /// </summary>
    /// <remarks>NOTE: with an HTTP proxy configured, the check applies to the proxy's address, not the receiver's.</remarks>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> CreateConnectCallback(IOptionsMonitor<RegistryOptions> options) =>
        async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            // Any blocked address fails the connection, so a name whose DNS records mix public and internal addresses
            // cannot be used to reach the internal one.
            if (!options.CurrentValue.Webhooks.AllowPrivateAddresses && addresses.FirstOrDefault(IsPrivate) is { } blocked)
            {
                throw new HttpRequestException(
                    $"The host '{host}' resolves to {blocked}, which is not a public address; Registry:Webhooks:AllowPrivateAddresses=false forbids it.");
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
