using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Dtr.Metadata.PostgreSql.Tests;

/// <summary>
/// The PostgreSQL server that the tests create their databases on. When the environment variable
/// <c>DTR_POSTGRES_CONNECTION</c> is set, it is the connection string of a running server whose user may create
/// databases. Otherwise the fixture runs initdb into a temporary folder, as user postgres when the tests run as
/// root, and starts the server with pg_ctl on a free port of 127.0.0.1 with fsync off. On dispose it stops that
/// server and deletes the folder.
/// </summary>
public sealed class PostgreSqlCluster : IAsyncLifetime
{
    /// <summary>The environment variable that names an existing server.</summary>
    public const string ConnectionVariable = "DTR_POSTGRES_CONNECTION";

    private const string BinariesRoot = "/usr/lib/postgresql";

    private string? _folder;
    private string? _binFolder;
    private string? _adminConnectionString;

    /// <summary>The connection string of the maintenance database <c>postgres</c>, as a user that may create databases.</summary>
    public string AdminConnectionString => _adminConnectionString ?? throw new InvalidOperationException("The cluster is started in InitializeAsync.");

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _adminConnectionString = new NpgsqlConnectionStringBuilder(configured) { Database = "postgres", Pooling = false }.ToString();
            return;
        }

        _binFolder = FindBinFolder();
        var port = FindFreePort();

        // The socket path inside the folder must stay short (about 107 bytes), so the folder sits directly in /tmp.
        _folder = Directory.CreateTempSubdirectory("dtr-pg-").FullName;
        var asPostgres = Environment.UserName == "root";
        if (asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", _folder]);
        }

        await RunAsync(Path.Combine(_binFolder, "initdb"),
            ["-D", Path.Combine(_folder, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"], asPostgres);
        var serverOptions = string.Create(CultureInfo.InvariantCulture,
            $"-c listen_addresses=127.0.0.1 -p {port} -k {_folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        await RunAsync(Path.Combine(_binFolder, "pg_ctl"),
            ["-D", Path.Combine(_folder, "data"), "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "30", "-o", serverOptions, "start"], asPostgres);

        _adminConnectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false");
    }

    public async Task DisposeAsync()
    {
        if (_folder is null || _binFolder is null)
        {
            return;
        }

        try
        {
            await RunAsync(Path.Combine(_binFolder, "pg_ctl"), ["-D", Path.Combine(_folder, "data"), "-m", "fast", "-w", "stop"], Environment.UserName == "root");
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>
    /// Creates an empty database with a unique name and returns its connection string. With
    /// <paramref name="icuLocale"/>, the database's default collation is that ICU locale instead of the cluster's.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? icuLocale = null)
    {
        var name = "dtr_test_" + Guid.NewGuid().ToString("N");
        var collation = icuLocale is null ? string.Empty : $" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icuLocale}'";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();

            // Copying the template's files is faster than the WAL-logged copy that PostgreSQL 15 made the default.
            var strategy = connection.PostgreSqlVersion.Major >= 15 ? " STRATEGY FILE_COPY" : string.Empty;
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{collation}{strategy};", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    /// <summary>Drops a database that <see cref="CreateDatabaseAsync"/> created, closing any connection still open to it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE);", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string FindBinFolder()
    {
        var candidates = Directory.Exists(BinariesRoot)
            ? Directory.GetDirectories(BinariesRoot)
                .Select(folder => Path.Combine(folder, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0)
                .ToList()
            : [];
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries (initdb, pg_ctl) were not found under {BinariesRoot}/*/bin. Run scripts/test.sh, which installs " +
            $"the postgresql package, or install it with 'apt-get install postgresql', or set {ConnectionVariable} to the connection string of a running server.");
    }

    private static int FindFreePort()
    {
        // NOTE: another process could take the port between this check and the server's start; pg_ctl then fails.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres = false)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Starting {program} failed.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {await output} {await error}");
        }
    }
}

/// <summary>Shares one <see cref="PostgreSqlCluster"/> between the test classes that use it.</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlCollection : ICollectionFixture<PostgreSqlCluster>
{
    public const string Name = "PostgreSQL";
}
