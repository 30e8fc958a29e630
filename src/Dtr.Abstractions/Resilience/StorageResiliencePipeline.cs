using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Dtr.Resilience;

/// <summary>
/// Builds the Polly pipeline that storage drivers and database stores run each service call through, so that all
/// of them retry, time out and break circuits the same way and log each retry with its attempt number.
/// </summary>
/// <remarks>
/// Strategies, outermost first: retry, circuit breaker, attempt timeout. A timed-out attempt is retried like any
/// other transient fault, and an open circuit stops the retries at once with <see cref="BrokenCircuitException"/>.
/// A transient fault still failing after the last retry leaves the pipeline as <see cref="StorageUnavailableException"/>,
/// so callers catch <see cref="ExecutionRejectedException"/> for every way the pipeline gives up.
/// Only wrap calls that are safe to repeat: a read, a put of a whole object or part under a fixed key, a delete, or a
/// database transaction that rolls back on failure.
/// </remarks>
public static partial class StorageResiliencePipeline
{
    /// <summary>Creates the pipeline for one driver or store.</summary>
    /// <param name="component">Name used in logs, for example <c>s3</c> or <c>postgresql</c>.</param>
    /// <param name="options">The pipeline settings.</param>
    /// <param name="isTransient">
    /// Returns true for a fault that a repeat of the same call may not hit: throttling, a 5xx response, a reset
    /// connection, a serialization failure or deadlock. Faults that will repeat (not found, denied, invalid input)
    /// must return false, so they surface at once.
    /// </param>
    /// <param name="logger">Receives a warning per retry and an error when the circuit opens.</param>
    /// <param name="timeProvider">Clock for delays and the breaker; tests pass a fake one.</param>
    public static ResiliencePipeline Create(
        string component,
        StorageResilienceOptions options,
        Func<Exception, bool> isTransient,
        ILogger logger,
        TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(isTransient);
        ArgumentNullException.ThrowIfNull(logger);

        if (!options.Enabled)
        {
            return ResiliencePipeline.Empty;
        }

        // An attempt cancelled by the timeout strategy surfaces as TimeoutRejectedException, which is transient.
        bool ShouldHandle(Exception error) => error is TimeoutRejectedException || (error is not OperationCanceledException && isTransient(error));

        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        // Outermost: a transient fault that outlived every retry becomes StorageUnavailableException.
        builder.AddStrategy(_ => new TransientFaultTranslation(component, ShouldHandle), new TransientFaultTranslationOptions());

        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ShouldHandle),
                OnRetry = arguments =>
                {
                    // AttemptNumber counts from 0 for the first attempt, so the retry about to run is AttemptNumber + 1.
                    RetryScheduled(
                        logger,
                        component,
                        arguments.AttemptNumber + 1,
                        options.MaxRetryAttempts,
                        arguments.RetryDelay.TotalMilliseconds,
                        arguments.Outcome.Exception?.GetType().Name ?? "none",
                        arguments.Outcome.Exception?.Message ?? string.Empty);
                    return default;
                },
            });
        }

        if (options.CircuitBreakerEnabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ShouldHandle),
                OnOpened = arguments =>
                {
                    CircuitOpened(logger, component, arguments.BreakDuration.TotalSeconds, arguments.Outcome.Exception);
                    return default;
                },
                OnClosed = _ =>
                {
                    CircuitClosed(logger, component);
                    return default;
                },
            });
        }

        if (options.AttemptTimeout is { } timeout)
        {
            builder.AddTimeout(timeout);
        }

        return builder.Build();
    }

    private sealed class TransientFaultTranslationOptions : ResilienceStrategyOptions
    {
        public TransientFaultTranslationOptions() => Name = "TransientFaultTranslation";
    }

    /// <summary>Replaces a transient fault that reaches the outside of the pipeline with <see cref="StorageUnavailableException"/>.</summary>
    private sealed class TransientFaultTranslation(string component, Func<Exception, bool> isTransient) : ResilienceStrategy
    {
        protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback,
            ResilienceContext context,
            TState state)
        {
            var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
            if (outcome.Exception is { } error
                && error is not ExecutionRejectedException
                && !context.CancellationToken.IsCancellationRequested
                && isTransient(error))
            {
                return Outcome.FromException<TResult>(new StorageUnavailableException(component, error));
            }

            return outcome;
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Warning,
        Message = "Transient {Component} fault; retry {Attempt} of {MaxAttempts} in {DelayMs:F0} ms after {ErrorType}: {ErrorMessage}")]
    private static partial void RetryScheduled(ILogger logger, string component, int attempt, int maxAttempts, double delayMs, string errorType, string errorMessage);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error,
        Message = "The {Component} circuit opened after repeated transient faults; calls fail at once for {BreakSeconds:F0} s")]
    private static partial void CircuitOpened(ILogger logger, string component, double breakSeconds, Exception? error);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "The {Component} circuit closed; calls go through again")]
    private static partial void CircuitClosed(ILogger logger, string component);
}
