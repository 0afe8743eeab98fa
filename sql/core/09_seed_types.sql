-- The types every install starts with (the design's four, plus a generic jsonb cache). Kept when present.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM cache_types WHERE name = 'default') THEN
    PERFORM cache_create_type('default', 'jsonb', cache_ttl('medium'),
      p_description => 'Generic jsonb cache');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM cache_types WHERE name = 'embeddings') THEN
    PERFORM cache_create_type('embeddings', 'vector', cache_ttl('long'), p_max_value_bytes => 65536,
      p_description => 'Embedding vectors keyed by model and content hash; widths per model in cache_models');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM cache_types WHERE name = 'llm_responses') THEN
    PERFORM cache_create_type('llm_responses', 'text', cache_ttl('medium'),
      p_attributes => '{"tokens_used": "number"}',
      p_description => 'LLM responses keyed by a hash of model, prompt and context');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM cache_types WHERE name = 'vector_search') THEN
    PERFORM cache_create_type('vector_search', 'jsonb', cache_ttl('medium'),
      p_description => 'Vector search results keyed by query vector, filters and knowledge-base version');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM cache_types WHERE name = 'audio_chunks') THEN
    PERFORM cache_create_type('audio_chunks', 'bytea', cache_ttl('long'), p_max_value_bytes => 16777216,
      p_attributes => '{"format": "string", "duration_ms": "number"}',
      p_description => 'TTS audio keyed by a hash of text and voice settings');
  END IF;
END $$;
