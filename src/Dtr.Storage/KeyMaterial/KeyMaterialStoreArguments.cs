using Dtr.Metadata;

namespace Dtr.Storage.KeyMaterial;

/// <summary>The argument checks of <see cref="IKeyMaterialStore"/>, shared by every metadata store.</summary>
internal static class KeyMaterialStoreArguments
{
    /// <exception cref="ArgumentException">The name is empty or longer than <see cref="StoredKeyMaterial.MaxNameLength"/>.</exception>
    public static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > StoredKeyMaterial.MaxNameLength)
        {
            throw new ArgumentException($"The key material name is {name.Length} characters long; use at most {StoredKeyMaterial.MaxNameLength}.", nameof(name));
        }
    }

    /// <exception cref="ArgumentException">The name is invalid or the value is empty.</exception>
    public static void ValidateAdd(string name, string value)
    {
        ValidateName(name);
        ArgumentException.ThrowIfNullOrEmpty(value);
    }
}
