using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// The signature of a delivery, sent in the <see cref="HeaderName"/> header as <c>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>.
/// <c>v1</c> is the lowercase hex HMAC-SHA256 of <c>"&lt;t&gt;." + body</c>, keyed with the UTF-8 bytes of the
/// subscription's secret. A receiver recomputes it over the raw body, compares in constant time, and rejects a
/// timestamp far from its own clock, so a recorded delivery cannot be replayed later.
/// </summary>
internal static class WebhookSignature
{
    /// <summary>The header with the timestamp and signature.</summary>
    public const string HeaderName = "X-Dtr-Signature";

    /// <summary>The header with the event type.</summary>
    public const string EventHeaderName = "X-Dtr-Event";

    /// <summary>The header with the event id, the same in every delivery and attempt of one event.</summary>
    public const string EventIdHeaderName = "X-Dtr-Event-Id";

    /// <summary>The header with the delivery id, the same in every attempt of one delivery.</summary>
    public const string DeliveryHeaderName = "X-Dtr-Delivery";

    /// <summary>Returns the header value for a body signed at <paramref name="time"/>.</summary>
    public static string Create(string secret, DateTimeOffset time, ReadOnlySpan<byte> body)
    {
        var timestamp = time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return "t=" + timestamp + ",v1=" + Compute(secret, timestamp, body);
    }

    /// <summary>Returns the lowercase hex HMAC-SHA256 of <c>"&lt;timestamp&gt;." + body</c>.</summary>
    public static string Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>Returns a new secret: 32 random bytes as base64url, prefixed with <c>whsec_</c>.</summary>
    public static string NewSecret() => "whsec_" + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
