using System.Diagnostics;

namespace Dtr.Telemetry;

/// <summary>Runs store calls inside an <see cref="Activity"/> when one was started, and records their failure.</summary>
internal static class StoreTracing
{
    /// <summary>The span tag that names the blob or manifest digest.</summary>
    public const string DigestTag = "dtr.digest";

    /// <summary>The span tag that names the repository.</summary>
    public const string RepositoryTag = "dtr.repository";

    /// <summary>The span tag that names the upload id.</summary>
    public const string UploadTag = "dtr.upload.id";

    /// <summary>
    /// Starts a client span with one tag, or returns null when no listener samples it. The tag value is only
    /// formatted for a span that records data.
    /// </summary>
    public static Activity? Start(string name, string tag, object? value)
    {
        var activity = RegistryTelemetry.ActivitySource.StartActivity(name, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(tag, value?.ToString());
        }

        return activity;
    }

    /// <summary>Calls <paramref name="call"/> and ends <paramref name="activity"/> when the returned task completes.</summary>
    public static ValueTask<T> Run<TStore, TArguments, T>(Activity? activity, TStore store, TArguments arguments, Func<TStore, TArguments, ValueTask<T>> call)
    {
        if (activity is null)
        {
            return call(store, arguments);
        }

        ValueTask<T> pending;
        try
        {
            pending = call(store, arguments);
        }
        catch (Exception exception)
        {
            Fail(activity, exception);
            activity.Dispose();
            throw;
        }

        return AwaitAsync(activity, pending);
    }

    /// <summary>Calls <paramref name="call"/> and ends <paramref name="activity"/> when the returned task completes.</summary>
    public static ValueTask Run<TStore, TArguments>(Activity? activity, TStore store, TArguments arguments, Func<TStore, TArguments, ValueTask> call)
    {
        if (activity is null)
        {
            return call(store, arguments);
        }

        ValueTask pending;
        try
        {
            pending = call(store, arguments);
        }
        catch (Exception exception)
        {
            Fail(activity, exception);
            activity.Dispose();
            throw;
        }

        return AwaitAsync(activity, pending);
    }

    private static async ValueTask<T> AwaitAsync<T>(Activity activity, ValueTask<T> pending)
    {
        try
        {
            return await pending;
        }
        catch (Exception exception)
        {
            Fail(activity, exception);
            throw;
        }
        finally
        {
            activity.Dispose();
        }
    }

    private static async ValueTask AwaitAsync(Activity activity, ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception exception)
        {
            Fail(activity, exception);
            throw;
        }
        finally
        {
            activity.Dispose();
        }
    }

    private static void Fail(Activity activity, Exception exception)
    {
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
