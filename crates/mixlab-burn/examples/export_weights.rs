//! Writes the weights of a freshly initialised model as safetensors, to check that other tools (Python's
//! `safetensors`) open our checkpoint files. Usage: export_weights <path> [model-name]

use mixlab_burn::burn::module::Module;
use mixlab_burn::burn::prelude::Device;
use mixlab_burn::checkpoint::save_weights;
use mixlab_burn::models::ModelConfig;
use mixlab_core::shape::SampleShape;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: export_weights <path> [model-name]")?;
    let cfg = ModelConfig::by_name(args.get(2).map_or("preact-resnet18", String::as_str))?;
    let model = cfg.init(&SampleShape::d2(3, 32, 32)?, 10, 0, &Device::flex())?;
    save_weights(&model, std::path::Path::new(path))?;
    println!("wrote {path} ({} parameters)", model.num_params());
    Ok(())
}
