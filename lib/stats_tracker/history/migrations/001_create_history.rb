# frozen_string_literal: true

# Times are Unix seconds (UTC) in bigint columns: the same on SQLite and PostgreSQL, with no
# time-zone conversion anywhere between a writer and a reader.
Sequel.migration do
  change do
    create_table(:packages) do
      primary_key :id
      String :owner, null: false
      String :name, null: false
      Bignum :first_seen_at, null: false
      unique %i[owner name]
    end

    # One row per change of the total: recording an unchanged total moves last_seen_at instead
    # of adding a row, so re-recording the same page adds nothing. Times are not unique: two
    # writers may see different totals within the same second, and both are kept.
    create_table(:observations) do
      primary_key :id, type: :Bignum
      foreign_key :package_id, :packages, null: false, on_delete: :cascade
      Bignum :observed_at, null: false
      Bignum :last_seen_at, null: false
      Bignum :total_downloads, null: false
      index %i[package_id observed_at]
      index :last_seen_at
    end

    create_table(:daily_counts) do
      foreign_key :package_id, :packages, null: false, on_delete: :cascade
      Date :day, null: false
      Bignum :downloads, null: false
      primary_key %i[package_id day]
    end

    create_table(:version_counts) do
      foreign_key :observation_id, :observations, type: :Bignum, null: false, on_delete: :cascade
      String :tag, null: false
      Bignum :downloads, null: false
      primary_key %i[observation_id tag]
    end
  end
end
