namespace Dtr.Metadata;

/// <summary>
/// Named secrets that every host of one registry must share, such as the private key of the client certificate
/// authority or the uploaded HTTPS certificate. Hosts behind a load balancer share the metadata database but not the
/// data folder, so the embedded implementation keeps the entries in the same database as <see cref="IMetadataStore"/>.
/// An entry is either added once with <see cref="GetOrAddKeyMaterialAsync"/> or replaced as a whole with
/// <see cref="SetKeyMaterialAsync"/>.
/// </summary>
public interface IKeyMaterialStore
{
    /// <summary>Reads the entry called <paramref name="name"/>, or returns null when there is none.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or longer than <see cref="StoredKeyMaterial.MaxNameLength"/>.</exception>
    ValueTask<StoredKeyMaterial?> GetKeyMaterialAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="name"/> unless an entry with that name exists, and returns
    /// the entry that is stored afterwards. The check and the insert are one atomic step, so when two hosts add the
    /// same name at once, both get the value of the one that wrote first.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> is empty or longer than <see cref="StoredKeyMaterial.MaxNameLength"/>, or
    /// <paramref name="value"/> is empty.
    /// </exception>
    ValueTask<StoredKeyMaterial> GetOrAddKeyMaterialAsync(string name, string value, DateTimeOffset updatedAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="name"/>, replacing any entry with that name, and returns
    /// the stored entry.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> is empty or longer than <see cref="StoredKeyMaterial.MaxNameLength"/>, or
    /// <paramref name="value"/> is empty.
    /// </exception>
    ValueTask<StoredKeyMaterial> SetKeyMaterialAsync(string name, string value, DateTimeOffset updatedAt, CancellationToken cancellationToken = default);
}

/// <summary>A stored secret.</summary>
/// <param name="Name">The entry's name, such as <c>client-ca</c>.</param>
/// <param name="Value">The secret as text, usually PEM.</param>
/// <param name="UpdatedAt">When the value was stored, in whole milliseconds.</param>
public sealed record StoredKeyMaterial(string Name, string Value, DateTimeOffset UpdatedAt)
{
    /// <summary>The maximum length of <see cref="Name"/>, in characters.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Leaves the secret out, so that logging the record never writes it.</summary>
    public override string ToString() => $"StoredKeyMaterial {{ Name = {Name}, UpdatedAt = {UpdatedAt:O} }}";
}
