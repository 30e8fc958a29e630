using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dtr.Tests.Shared;

/// <summary>
/// A webhook receiver on a free 127.0.0.1 port, built on <see cref="HttpListener"/>. It keeps every request and
/// responds to each with what <see cref="Respond"/> returns for its number (from 1): a status code, or a hang until
/// the receiver is released or disposed.
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedWebhook> _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;

    public WebhookReceiver()
    {
        var port = FreePort();
        Url = $"http://127.0.0.1:{port}/hook";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    /// <summary>The response to a request.</summary>
    public enum Reply
    {
        /// <summary>Respond 200.</summary>
        Ok,

        /// <summary>Respond 500.</summary>
        ServerError,

        /// <summary>Wait without responding until <see cref="Release"/> or disposal.</summary>
        Hang,
    }

    /// <summary>The URL to subscribe.</summary>
    public string Url { get; }

    /// <summary>Chooses the reply of the request with the given number, from 1. Default: 200 for all.</summary>
    public Func<int, Reply> Respond { get; set; } = _ => Reply.Ok;

    /// <summary>The requests received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedWebhook> Requests => _requests.ToArray();

    /// <summary>Responds 200 to every hanging request.</summary>
    public void Release() => _release.TrySetResult();

    /// <summary>Waits until a request matches, and returns it; fails after <paramref name="timeout"/>.</summary>
    public async Task<ReceivedWebhook> WaitForAsync(Func<ReceivedWebhook, bool> match, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var found = Requests.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"No matching webhook request after {timeout.TotalSeconds} s; received: {string.Join(", ", Requests.Select(r => r.EventType))}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Returns whether <c>X-Dtr-Signature</c> (<c>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>) is the HMAC-SHA256 of
    /// <c>"&lt;t&gt;." + body</c> keyed with the secret, with a timestamp within five minutes of now.
    /// </summary>
    public static bool VerifySignature(string secret, string? header, byte[] body)
    {
        if (header is null)
        {
            return false;
        }

        var parts = header.Split(',').Select(part => part.Split('=', 2)).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        if (!parts.TryGetValue("t", out var timestamp) || !parts.TryGetValue("v1", out var signature)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
        {
            return false;
        }

        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray();
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(signature));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _release.TrySetResult();
        _listener.Close();
        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        var headers = context.Request.Headers.AllKeys.Where(key => key is not null).ToDictionary(key => key!, key => context.Request.Headers[key]!, StringComparer.OrdinalIgnoreCase);
        var number = Interlocked.Increment(ref _count);
        _requests.Enqueue(new ReceivedWebhook(number, context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body.ToArray(), DateTimeOffset.UtcNow));
        try
        {
            switch (Respond(number))
            {
                case Reply.ServerError:
                    context.Response.StatusCode = 500;
                    break;
                case Reply.Hang:
                    await _release.Task;
                    break;
            }

            context.Response.Close();
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // The receiver is shutting down.
        }
        catch (HttpListenerException)
        {
            // The sender gave up on the request first.
        }
        catch (ObjectDisposedException)
        {
            // The listener closed while the request hung.
        }
    }
}

/// <summary>A request the receiver got.</summary>
public sealed record ReceivedWebhook(int Number, string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset ReceivedAt)
{
    /// <summary>The X-Dtr-Event header.</summary>
    public string? EventType => Headers.GetValueOrDefault("X-Dtr-Event");

    /// <summary>The body parsed as JSON.</summary>
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
}
