# frozen_string_literal: true

# The operator's code lives under operator/lib (it ships with the gem but is not part of the
# library's require path), so its specs add it here.
operator_lib = File.expand_path("../../../operator/lib", __dir__)
$LOAD_PATH.unshift(operator_lib) unless $LOAD_PATH.include?(operator_lib)
