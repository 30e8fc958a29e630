using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Dtr.EndToEnd.Tests;

/// <summary>The exit code and captured output of a finished command.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, byte[] StandardOutputBytes, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The standard output decoded as UTF-8.</summary>
    public string StandardOutput => Encoding.UTF8.GetString(StandardOutputBytes);

    /// <summary>Formats the command, its exit code and both output streams for an assertion message.</summary>
    public string Describe() =>
        $"Command: {CommandLine}\nExit code: {ExitCode}\nStandard output:\n{Tail(StandardOutput)}\nStandard error:\n{Tail(StandardError)}";

    // Keeps assertion messages readable when a tool prints a progress bar or a long log.
    private static string Tail(string text) => text.Length <= 8000 ? text : "…" + text[^8000..];
}

/// <summary>Runs external tools (skopeo, dotnet) with separate arguments and captured output.</summary>
internal static class CommandRunner
{
    /// <summary>
    /// Runs <paramref name="fileName"/> to completion and returns its result, whatever the exit code.
    /// A command that outlives <paramref name="timeout"/> is killed with its child processes and raises <see cref="TimeoutException"/>.
    /// </summary>
    /// <param name="environment">Variables to set; a null value removes the variable from the inherited environment.</param>
    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var commandLine = fileName + " " + string.Join(' ', startInfo.ArgumentList.Select(Quote));
        var standardError = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.ErrorDataReceived += (_, e) => Append(standardError, e.Data);

        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Could not start '{fileName}' ({e.Message}). Install it (scripts/test.sh installs the tools the end-to-end tests use) and make sure it is on PATH.",
                e);
        }

        // The tools must never wait for input: closing stdin turns a prompt into an error.
        process.StandardInput.Close();
        process.BeginErrorReadLine();

        // Standard output is kept as bytes because some callers compare it with digests (skopeo inspect --raw).
        var standardOutput = new MemoryStream();
        var outputCopy = process.StandardOutput.BaseStream.CopyToAsync(standardOutput);

        using var timeoutSource = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
            await outputCopy.WaitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            await outputCopy;
            throw new TimeoutException(
                $"The command timed out after {timeout.TotalSeconds:F0} s and was killed.\n" +
                new CommandResult(commandLine, -1, standardOutput.ToArray(), Read(standardError)).Describe());
        }

        return new CommandResult(commandLine, process.ExitCode, standardOutput.ToArray(), Read(standardError));
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    private static string Read(StringBuilder buffer)
    {
        lock (buffer)
        {
            return buffer.ToString();
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
