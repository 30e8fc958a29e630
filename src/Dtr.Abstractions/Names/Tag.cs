using System.Diagnostics.CodeAnalysis;

namespace Dtr.Names;

/// <summary>
/// Validation of tag names: <c>[A-Za-z0-9_][A-Za-z0-9._-]{0,127}</c>, as the OCI distribution specification defines.
/// </summary>
public static class Tag
{
    /// <summary>The maximum length of a tag, in characters.</summary>
    public const int MaxLength = 128;

    /// <summary>Returns whether <paramref name="value"/> is a valid tag.</summary>
    public static bool IsValid([NotNullWhen(true)] string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return false;
        }

        if (!IsWordCharacter(value[0]))
        {
            return false;
        }

        for (var i = 1; i < value.Length; i++)
        {
            var c = value[i];
            if (!IsWordCharacter(c) && c is not ('.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsWordCharacter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
}
