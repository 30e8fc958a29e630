using Dtr.Resilience;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Dtr.Abstractions.Tests.Resilience;

public sealed class StorageResiliencePipelineTests
{
    private static StorageResilienceOptions FastOptions() => new()
    {
        MaxRetryAttempts = 3,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
        CircuitBreakerEnabled = false,
    };

    private static bool IsTransient(Exception error) => error is TransientTestException;

    [Fact]
    public async Task TransientFault_IsRetriedUntilSuccess()
    {
        var logger = new ListLogger();
        var pipeline = StorageResiliencePipeline.Create("test-store", FastOptions(), IsTransient, logger);
        var calls = 0;

        var result = await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            return calls < 3 ? throw new TransientTestException() : ValueTask.FromResult(42);
        });

        Assert.Equal(42, result);
        Assert.Equal(3, calls);
        Assert.Equal(2, logger.Messages.Count);
        Assert.Contains("retry 1 of 3", logger.Messages[0], StringComparison.Ordinal);
        Assert.Contains("retry 2 of 3", logger.Messages[1], StringComparison.Ordinal);
        Assert.Contains("test-store", logger.Messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TransientFault_SurfacesAfterLastRetry()
    {
        var pipeline = StorageResiliencePipeline.Create("test-store", FastOptions(), IsTransient, new ListLogger());
        var calls = 0;

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new TransientTestException();
        }));

        Assert.Equal(4, calls);
        Assert.IsType<TransientTestException>(error.InnerException);
        Assert.Equal("test-store", error.Component);
    }

    [Fact]
    public async Task PermanentFault_IsNotRetried()
    {
        var logger = new ListLogger();
        var pipeline = StorageResiliencePipeline.Create("test-store", FastOptions(), IsTransient, logger);
        var calls = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new InvalidOperationException("not found");
        }));

        Assert.Equal(1, calls);
        Assert.Empty(logger.Messages);
    }

    [Fact]
    public async Task CallerCancellation_IsNotRetried()
    {
        var pipeline = StorageResiliencePipeline.Create("test-store", FastOptions(), _ => true, new ListLogger());
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        var calls = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pipeline.ExecuteAsync(
            token =>
            {
                calls++;
                token.ThrowIfCancellationRequested();
                return ValueTask.CompletedTask;
            },
            cancellation.Token));

        Assert.True(calls <= 1);
    }

    [Fact]
    public async Task HungAttempt_TimesOutAndIsRetried()
    {
        var options = FastOptions();
        options.MaxRetryAttempts = 2;
        options.AttemptTimeout = TimeSpan.FromMilliseconds(20);
        var logger = new ListLogger();
        var pipeline = StorageResiliencePipeline.Create("test-store", options, IsTransient, logger);
        var calls = 0;

        await Assert.ThrowsAsync<TimeoutRejectedException>(async () => await pipeline.ExecuteAsync(async token =>
        {
            calls++;
            await Task.Delay(Timeout.Infinite, token);
        }));

        Assert.Equal(3, calls);
        Assert.Equal(2, logger.Messages.Count);
    }

    [Fact]
    public async Task RepeatedFaults_OpenCircuit()
    {
        var options = FastOptions();
        options.MaxRetryAttempts = 0;
        options.CircuitBreakerEnabled = true;
        options.MinimumThroughput = 2;
        options.FailureRatio = 0.5;
        options.BreakDuration = TimeSpan.FromMinutes(1);
        var logger = new ListLogger();
        var pipeline = StorageResiliencePipeline.Create("test-store", options, IsTransient, logger);
        var calls = 0;

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(async () => await pipeline.ExecuteAsync(_ =>
            {
                calls++;
                throw new TransientTestException();
            }));
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            return ValueTask.CompletedTask;
        }));

        Assert.Equal(2, calls);
        Assert.Contains(logger.Messages, message => message.Contains("circuit opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DisabledPipeline_CallsOnce()
    {
        var options = FastOptions();
        options.Enabled = false;
        var pipeline = StorageResiliencePipeline.Create("test-store", options, IsTransient, new ListLogger());
        var calls = 0;

        await Assert.ThrowsAsync<TransientTestException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            calls++;
            throw new TransientTestException();
        }));

        Assert.Equal(1, calls);
    }

    [Fact]
    public void Validate_ListsEachInvalidSetting()
    {
        var options = new StorageResilienceOptions
        {
            MaxRetryAttempts = -1,
            BaseDelay = TimeSpan.FromSeconds(10),
            MaxDelay = TimeSpan.FromSeconds(1),
            AttemptTimeout = TimeSpan.Zero,
            FailureRatio = 2,
            MinimumThroughput = 1,
            SamplingDuration = TimeSpan.FromMilliseconds(1),
            BreakDuration = TimeSpan.FromMilliseconds(1),
        };

        var failures = options.Validate("Storage:Resilience");

        Assert.Equal(7, failures.Count);
        Assert.All(failures, failure => Assert.StartsWith("Storage:Resilience:", failure, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_AcceptsDefaults()
    {
        Assert.Empty(new StorageResilienceOptions().Validate("Storage:Resilience"));
    }

    private sealed class TransientTestException : Exception
    {
        public TransientTestException()
            : base("injected transient fault")
        {
        }
    }

    private sealed class ListLogger : ILogger
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add(formatter(state, exception));
            }
        }
    }
}
