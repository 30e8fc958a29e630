using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// Sends one round of attempts of a delivery: a signed POST of its payload, retried by a Polly pipeline with
/// exponential backoff and jitter up to <see cref="RegistryWebhookOptions.AttemptsPerRound"/> times, each attempt
/// limited to <see cref="RegistryWebhookOptions.AttemptTimeout"/>. Redirects are not followed, so a 3xx fails.
/// </summary>
internal sealed class WebhookSender
{
    /// <summary>The name of the <see cref="HttpClient"/> that sends deliveries.</summary>
    public const string HttpClientName = "Dtr.Webhooks";

    /// <summary>The User-Agent header of deliveries.</summary>
    public const string UserAgent = "Dtr-Webhooks/1";

    private readonly IHttpClientFactory _clients;
    private readonly IOptionsMonitor<RegistryOptions> _options;
    private readonly TimeProvider _time;

    public WebhookSender(IHttpClientFactory clients, IOptionsMonitor<RegistryOptions> options, TimeProvider time)
    {
        _clients = clients;
        _options = options;
        _time = time;
    }

    /// <summary>
    /// Sends the delivery until an attempt succeeds, the round ends, or the delivery reaches
    /// <see cref="RegistryWebhookOptions.MaxAttempts"/>, and returns every attempt made, numbered on from
    /// <see cref="WebhookDelivery.Attempts"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<IReadOnlyList<WebhookAttempt>> SendRoundAsync(WebhookSubscription subscription, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue.Webhooks;
        var attempts = new List<WebhookAttempt>();
        var remaining = Math.Max(1, Math.Min(options.AttemptsPerRound, options.MaxAttempts - delivery.Attempts));
        var pipeline = BuildPipeline(options, remaining);
        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        await pipeline.ExecuteAsync(
            async attemptToken =>
            {
                var attempt = await SendOnceAsync(subscription, delivery, body, delivery.Attempts + attempts.Count + 1, options.AttemptTimeout, attemptToken, cancellationToken).ConfigureAwait(false);
                attempts.Add(attempt);
                return attempt;
            },
            cancellationToken).ConfigureAwait(false);
        return attempts;
    }

    /// <summary>Builds the request of one attempt, with the signature and the event and delivery headers.</summary>
    internal HttpRequestMessage CreateRequest(WebhookSubscription subscription, WebhookDelivery delivery, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.ParseAdd(UserAgent);
        request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Create(subscription.Secret, _time.GetUtcNow(), body));
        request.Headers.Add(WebhookSignature.EventHeaderName, delivery.EventType);
        request.Headers.Add(WebhookSignature.EventIdHeaderName, delivery.EventId);
        request.Headers.Add(WebhookSignature.DeliveryHeaderName, delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    private static ResiliencePipeline<WebhookAttempt> BuildPipeline(RegistryWebhookOptions options, int attempts)
    {
        var builder = new ResiliencePipelineBuilder<WebhookAttempt>();
        if (attempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<WebhookAttempt>
            {
                MaxRetryAttempts = attempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = WebhookOptionsValidator.MaxRetryDelay(options),
                ShouldHandle = arguments => ValueTask.FromResult(arguments.Outcome.Result is { Succeeded: false }),
            });
        }

        // The timeout strategy cancels the attempt's token. SendOnceAsync returns a failed attempt instead of
        // throwing OperationCanceledException, so the retry strategy handles the timeout as a failed result.
        return builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.AttemptTimeout }).Build();
    }

    private async Task<WebhookAttempt> SendOnceAsync(
        WebhookSubscription subscription,
        WebhookDelivery delivery,
        byte[] body,
        int number,
        TimeSpan timeout,
        CancellationToken attemptToken,
        CancellationToken stoppingToken)
    {
        var started = _time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var request = CreateRequest(subscription, delivery, body);
            using var response = await _clients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attemptToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            var error = response.IsSuccessStatusCode ? null : $"The receiver returned {status} {response.ReasonPhrase}.";
            return new WebhookAttempt(started, number, status, error, stopwatch.Elapsed);
        }
        catch (OperationCanceledException) when (attemptToken.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            return new WebhookAttempt(started, number, null, $"The attempt timed out after {timeout.TotalSeconds:0.###} s without response headers.", stopwatch.Elapsed);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // HttpRequestException in most cases, but a connection the receiver resets can also surface as IOException.
            return new WebhookAttempt(started, number, null, Truncate($"The request failed: {Describe(error)}"), stopwatch.Elapsed);
        }
    }

    private static string Describe(Exception error)
    {
        var message = error.Message;
        if (error.InnerException is { } inner && !message.Contains(inner.Message, StringComparison.Ordinal))
        {
            message += " (" + inner.Message + ")";
        }

        return message;
    }

    private static string Truncate(string text) =>
        text.Length <= WebhookAttempt.MaxErrorLength ? text : text[..WebhookAttempt.MaxErrorLength];
}
