using System.Text.Json;
using System.Text.Json.Nodes;
using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// Caches the effective runtime settings of this host: the configured <see cref="RegistryOptions"/> with the overrides
/// stored in <see cref="ISettingsStore"/> on top. A save through this host applies at once; saves through other hosts
/// sharing the store apply at the next <see cref="RefreshAsync"/>, which <see cref="RegistrySettingsRefresher"/> runs
/// every <see cref="RegistryOptions.SettingsRefreshInterval"/>. Consumers in other packages read the effective
/// scanning and garbage collection options through <c>IOptionsMonitor</c>, fed by <see cref="GetChangeToken"/>.
/// </summary>
internal sealed class RegistrySettings
{
    private readonly RegistryOptions _configured;
    private readonly ISettingsStore? _store;
    private readonly TimeProvider _time;
    private readonly ILogger<RegistrySettings> _logger;
    private readonly Lock _lock = new();
    private EffectiveSettings _current;
    private CancellationTokenSource _changed = new();

    // One refresh at a time, so a document that fails to apply is logged once even when refreshes overlap.
    private readonly SemaphoreSlim _refreshLock = new(1, 1);

    // The version of the last stored document that failed to apply, so each refresh does not log it again.
    private long _rejectedVersion = -1;

    public RegistrySettings(IOptions<RegistryOptions> options, IServiceProvider services, TimeProvider time, ILogger<RegistrySettings> logger)
    {
        _configured = options.Value;
        _store = (ISettingsStore?)services.GetService(typeof(ISettingsStore));
        _time = time;
        _logger = logger;
        _current = EffectiveSettings.FromConfiguration(_configured);
    }

    /// <summary>The settings in effect now.</summary>
    public EffectiveSettings Current => Volatile.Read(ref _current);

    /// <summary>Whether the metadata store keeps settings, so they can be changed at run time.</summary>
    public bool IsStored => _store is not null;

    /// <summary>Returns a token that fires at the next change of <see cref="Current"/>.</summary>
    public IChangeToken GetChangeToken()
    {
        lock (_lock)
        {
            return new CancellationChangeToken(_changed.Token);
        }
    }

    /// <summary>
    /// Reads the stored document and applies it when its version differs from the one in effect. A document that
    /// cannot be read, or whose values fail validation, is logged once and leaves the settings unchanged.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return;
        }

        await _refreshLock.WaitAsync(cancellationToken);
        try
        {
            await RefreshOnceAsync(_store, cancellationToken);
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private async Task RefreshOnceAsync(ISettingsStore store, CancellationToken cancellationToken)
    {
        var stored = await store.GetSettingsAsync(cancellationToken);
        var version = stored?.Version ?? 0;
        if (version == Current.Version || version == Interlocked.Read(ref _rejectedVersion))
        {
            return;
        }

        EffectiveSettings settings;
        try
        {
            settings = Build(stored);
        }
        catch (Exception exception) when (exception is JsonException or UriFormatException)
        {
            Interlocked.Exchange(ref _rejectedVersion, version);
            SettingsLog.StoredSettingsUnreadable(_logger, version, exception);
            return;
        }

        var errors = settings.Validate();
        if (errors.Count > 0)
        {
            Interlocked.Exchange(ref _rejectedVersion, version);
            SettingsLog.StoredSettingsInvalid(_logger, version, string.Join(" ", errors));
            return;
        }

        Apply(settings);
        SettingsLog.SettingsRefreshed(_logger, settings.Version, settings.UpdatedBy ?? "(unknown)");
    }

    /// <summary>Reads the stored document, the base of a change. Returns the effective settings without overrides when none is stored.</summary>
    /// <exception cref="InvalidOperationException">The metadata store keeps no settings.</exception>
    /// <exception cref="JsonException">The stored document is not valid.</exception>
    public async Task<EffectiveSettings> ReadLatestAsync(CancellationToken cancellationToken)
    {
        var store = _store ?? throw new InvalidOperationException("The metadata store does not implement ISettingsStore.");
        return Build(await store.GetSettingsAsync(cancellationToken));
    }

    /// <summary>Builds the effective settings of an overrides document without storing them, for validation.</summary>
    /// <exception cref="JsonException">The document does not have the shape of the resource.</exception>
    public EffectiveSettings Preview(JsonObject document, EffectiveSettings basedOn) =>
        EffectiveSettings.Create(_configured, document, SettingsOverrides.FromJson(document), basedOn.Version, basedOn.UpdatedAt, basedOn.UpdatedBy);

    /// <summary>
    /// Saves <paramref name="document"/> when the stored version is still <paramref name="basedOn"/>'s, and applies
    /// it on this host at once.
    /// </summary>
    /// <returns>The new effective settings, or null when another writer saved first.</returns>
    public async Task<EffectiveSettings?> TrySaveAsync(JsonObject document, EffectiveSettings basedOn, string? updatedBy, CancellationToken cancellationToken)
    {
        var store = _store ?? throw new InvalidOperationException("The metadata store does not implement ISettingsStore.");
        var saved = await store.TrySaveSettingsAsync(document.ToJsonString(), basedOn.Version, _time.GetUtcNow(), updatedBy, cancellationToken);
        if (saved is null)
        {
            return null;
        }

        var settings = Build(saved);
        Apply(settings);
        return settings;
    }

    private EffectiveSettings Build(StoredSettings? stored)
    {
        if (stored is null)
        {
            return EffectiveSettings.FromConfiguration(_configured);
        }

        var document = JsonNode.Parse(stored.Document) as JsonObject
            ?? throw new JsonException("The stored settings document is not a JSON object.");
        return EffectiveSettings.Create(_configured, document, SettingsOverrides.FromJson(document), stored.Version, stored.UpdatedAt, stored.UpdatedBy);
    }

    private void Apply(EffectiveSettings settings)
    {
        CancellationTokenSource changed;
        lock (_lock)
        {
            // Two refreshes can race; the later document wins unless an older one arrives after it.
            if (settings.Version < _current.Version && settings.Version != 0)
            {
                return;
            }

            Volatile.Write(ref _current, settings);
            changed = _changed;
            _changed = new CancellationTokenSource();
        }

        changed.Cancel();
        changed.Dispose();
    }
}
