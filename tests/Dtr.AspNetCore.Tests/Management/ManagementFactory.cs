using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>
/// The sample host with authentication on and the administrator password set, for management API tests. Log
/// records of the registry are kept in <see cref="Logs"/>.
/// </summary>
public class ManagementFactory : RegistryFactory
{
    public const string AdminName = "admin";
    public const string AdminPassword = "admin-password-1";

    public ManagementFactory()
        : this(new Dictionary<string, string?> { ["Registry:Admin:Password"] = AdminPassword })
    {
    }

    protected ManagementFactory(IReadOnlyDictionary<string, string?> settings)
    {
        Settings = settings;
    }

    /// <summary>The log records written while the host ran.</summary>
    public TestLogProvider Logs { get; } = new();

    /// <summary>Creates a client that signs in as the bootstrap administrator.</summary>
    public ManagementClient CreateAdminClient() => CreateManagementClient(AdminName, AdminPassword);

    /// <summary>Creates a client that sends HTTP basic credentials, or none when <paramref name="userName"/> is null.</summary>
    public ManagementClient CreateManagementClient(string? userName = null, string? password = null) =>
        new(CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }), userName, password);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);

        // The base factory turns authentication off for the distribution API suites; these tests need it on.
        if (!Settings.ContainsKey("Registry:Auth:Enabled"))
        {
            builder.UseSetting("Registry:Auth:Enabled", "true");
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureTestServices(ConfigureTestServices);
    }

    /// <summary>Changes the host's services after the registry registered its own.</summary>
    protected virtual void ConfigureTestServices(IServiceCollection services)
    {
    }
}

/// <summary>Keeps every log record in memory, so tests can check what was logged and how often.</summary>
public sealed class TestLogProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<TestLogRecord> _records = new();

    public IReadOnlyList<TestLogRecord> Records => _records.ToArray();

    public ILogger CreateLogger(string categoryName) => new TestLogger(categoryName, _records);

    public void Dispose()
    {
    }

    private sealed class TestLogger(string category, ConcurrentQueue<TestLogRecord> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            records.Enqueue(new TestLogRecord(category, logLevel, eventId, formatter(state, exception)));
    }
}

/// <summary>One log record.</summary>
public sealed record TestLogRecord(string Category, LogLevel Level, EventId EventId, string Message);
